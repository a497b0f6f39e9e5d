from assistant.pipeline.answer import generate_answer, parse_draft, strip_citations
from core.llm.fake import FakeChatModel
from core.profile import sample_profile
from core.prompts import load_prompt
from knowledge_base.articles import format_passages
from tests.conftest import answer_json, make_passage

# The sample business's answer prompt (its {business} and {customers} filled in).
ANSWER_1 = load_prompt("answer@1").bind(sample_profile().prompt_fields())

PASSAGES = [
    make_passage(
        "ref-001",
        "Refunds must be requested within 7 days.",
        title="Refund deadlines",
        section="Deadlines",
        issue_type="refunds",
        dense_score=0.8,
    )
]


def test_parse_keeps_reasoning_apart_and_only_known_citations() -> None:
    raw = answer_json("You have 7 days [ref-001].", ["ref-001", "made-up-9"])
    draft = parse_draft(raw, ["ref-001"])
    assert draft is not None
    assert draft.answer == "You have 7 days."
    assert draft.citations == ["ref-001"]
    assert draft.reasoning == "The passage states it."


def test_parse_finds_the_json_object_inside_chatter() -> None:
    raw = "Sure! " + answer_json("You have 7 days.", ["ref-001"]) + " Hope that helps."
    draft = parse_draft(raw, ["ref-001"])
    assert draft is not None and draft.answer == "You have 7 days."


def test_unparseable_or_empty_answers_are_malformed() -> None:
    assert parse_draft("You have 7 days.", ["ref-001"]) is None
    assert parse_draft('{"answer": ', ["ref-001"]) is None
    assert parse_draft(answer_json("  ", []), ["ref-001"]) is None


def test_a_declined_answer_parses_as_not_answerable() -> None:
    draft = parse_draft(answer_json("", [], answerable=False), ["ref-001"])
    assert draft is not None and not draft.answerable


def test_format_passages_labels_each_with_its_article_id_and_heading() -> None:
    text = format_passages(PASSAGES)
    assert text.startswith("[ref-001] Refund deadlines > Deadlines\n")


def test_strip_citations_leaves_clean_punctuation() -> None:
    assert (
        strip_citations("Within 7 days [ref-001]. Then [pay-2] stop.")
        == "Within 7 days. Then stop."
    )


def test_malformed_output_is_retried_once() -> None:
    model = FakeChatModel().enqueue("not json", answer_json("You have 7 days.", ["ref-001"]))
    result = generate_answer(model, ANSWER_1, question="q", conversation="c", passages=PASSAGES)
    assert result.attempts == 2
    assert result.value is not None and result.value.citations == ["ref-001"]
    assert len(model.calls) == 2


def test_malformed_twice_gives_no_draft() -> None:
    model = FakeChatModel().enqueue("nope", "still nope", answer_json("never read", []))
    result = generate_answer(model, ANSWER_1, question="q", conversation="c", passages=PASSAGES)
    assert result.value is None
    assert result.attempts == 2
    assert result.replies == ["nope", "still nope"]


def test_the_json_answer_string_is_read_as_it_is_written() -> None:
    from assistant.pipeline.answer import json_answer_text

    head = '{"reasoning": "the fee is in pay-002", "answerable": true, "answer": "'
    assert json_answer_text('{"reasoning": "the fee') == ""
    assert json_answer_text(head + 'Each costs \\"$0.85\\".\\nTap') == 'Each costs "$0.85".\nTap'
    assert json_answer_text(head + "Cut in half \\") == "Cut in half "
    assert json_answer_text(head + 'Done." , "citations": []}') == "Done."
    declined = '{"reasoning": "no", "answerable": false, "answer": "I am not sure'
    assert json_answer_text(declined) == ""
