import pytest

from assistant.pipeline.answer import (
    MOST_EXTRACTED,
    NO_EARLIER,
    Latest,
    generate_answer,
    numbered,
    parse_draft,
    parse_extract,
    strip_citations,
)
from assistant.pipeline.focus import GAP
from core.conversation import Turn
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


# The extractive format (answer@8): numbered passage sentences in, their numbers out.
EXTRACT = load_prompt("answer@8").bind(sample_profile().prompt_fields())
TWO = [
    make_passage(
        "ref-001",
        "Refunds must be requested within 7 days. Open Orders and tap Refund.",
        title="Refund deadlines",
        section="Deadlines",
    ),
    make_passage("pay-002", "Each transfer costs $2.", title="Fees"),
]


def test_the_extractive_prompt_numbers_sentences_across_passages_under_their_headings() -> None:
    assert numbered(TWO)[1] == (
        "[ref-001] Refund deadlines > Deadlines\n"
        "1. Refunds must be requested within 7 days.\n"
        "2. Open Orders and tap Refund.\n\n"
        "[pay-002] Fees\n"
        "3. Each transfer costs $2."
    )


def test_a_focused_passages_ellipsis_is_no_part_of_a_numbered_sentence() -> None:
    cut = make_passage("ref-001", f"Refunds take 7 days.{GAP}Tap Refund.")
    assert [s.text for s in numbered([cut])[0]] == ["Refunds take 7 days.", "Tap Refund."]


def test_an_extractive_reply_is_its_sentences_verbatim_in_the_passages_order() -> None:
    sentences = numbered(TWO)[0]
    draft = parse_extract("SENTENCES: 3, 1, 3, 9", sentences)
    assert draft is not None and draft.answerable
    assert draft.answer == "Refunds must be requested within 7 days. Each transfer costs $2."
    assert draft.citations == ["ref-001", "pay-002"]
    assert [q.article_id for q in draft.quotes] == ["ref-001", "pay-002"]


def test_an_extractive_reply_shows_at_most_four_sentences() -> None:
    many = [make_passage("ref-001", " ".join(f"Step {i} is here." for i in range(1, 9)))]
    draft = parse_extract("SENTENCES: 1, 2, 3, 4, 5, 6", numbered(many)[0])
    assert draft is not None
    assert draft.answer.count("Step") == MOST_EXTRACTED == 4


def test_an_extractive_none_declines_and_no_known_number_is_malformed() -> None:
    sentences = numbered(TWO)[0]
    declined = parse_extract("SENTENCES: none", sentences)
    assert declined is not None and not declined.answerable
    assert parse_extract("SENTENCES: 7, 12", sentences) is None
    assert parse_extract("The refund takes 7 days.", sentences) is None


def test_an_extractive_answer_is_asked_over_numbered_sentences_and_retried_when_malformed() -> None:
    model = FakeChatModel().enqueue("I think 2", "SENTENCES: 2")
    result = generate_answer(model, EXTRACT, question="How?", conversation="c", passages=TWO)
    assert result.value is not None and result.value.answer == "Open Orders and tap Refund."
    assert result.attempts == 2
    assert "2. Open Orders and tap Refund." in model.calls[0][-1].content


def test_a_sentence_two_passages_both_hold_is_shown_once() -> None:
    twice = [make_passage("tv-1", "Press Home."), make_passage("tv-2", "Press home . Then Menu.")]
    draft = parse_extract("SENTENCES: 1, 2, 3", numbered(twice)[0])
    assert draft is not None
    assert draft.answer == "Press Home. Then Menu."
    assert draft.citations == ["tv-1", "tv-2"]  # the first passage that says it


# answer@9: the reply is only the numbers, so its first token is the model's choice.
BARE = load_prompt("answer@9").bind(sample_profile().prompt_fields())


def test_a_bare_extractive_reply_names_its_sentences_and_chatter_is_malformed() -> None:
    sentences = numbered(TWO)[0]
    named = parse_extract("2 and 3", sentences)
    assert named is not None and named.citations == ["ref-001", "pay-002"]
    declined = parse_extract("none", sentences)
    assert declined is not None and not declined.answerable
    assert parse_extract("I think 2", sentences) is None


def test_the_models_probability_of_declining_is_read_on_the_same_prompt() -> None:
    model = FakeChatModel().enqueue("2", "0.3")  # the answer, then P("none") = 0.3
    result = generate_answer(model, BARE, question="How?", conversation="c", passages=TWO)
    assert result.value is not None and result.value.answer == "Open Orders and tap Refund."
    assert result.value.decline_probability == pytest.approx(0.3)
    assert model.calls[0] == model.calls[1]  # the same messages: served from the prefix cache


def test_no_probability_is_read_for_a_prompt_without_a_decline_option_or_a_declined_reply() -> None:
    model = FakeChatModel().enqueue("SENTENCES: 2", "none")
    assert generate_answer(model, EXTRACT, question="q", conversation="c", passages=TWO).value
    declined = generate_answer(model, BARE, question="q", conversation="c", passages=TWO).value
    assert declined is not None and not declined.answerable
    assert declined.decline_probability is None
    assert len(model.calls) == 2


@pytest.mark.parametrize(
    ("prompt", "asks"),
    [("answer@9", "Core issue:"), ("answer@10", "Customer's question:")],
)
def test_each_question_of_a_message_gets_its_own_pick_shown_in_the_passages_order(
    prompt: str, asks: str
) -> None:
    model = FakeChatModel().enqueue("3", "0.02", "1", "0.05")  # a pick and P("none") each
    whole = "How much is a transfer, and how long do refunds take?"
    result = generate_answer(
        model,
        load_prompt(prompt).bind(sample_profile().prompt_fields()),
        question=whole,
        conversation="c",
        passages=TWO,
        each=["How much is a transfer?", "How long do refunds take?"],
        latest=Latest(message=whole),  # each question of the two replaces it
    )
    assert result.value is not None
    assert result.value.answer == "Refunds must be requested within 7 days. Each transfer costs $2."
    assert result.value.decline_probability == pytest.approx(0.05)  # the least sure question's
    asked = [call[-1].content.rsplit(asks, 1)[1].strip() for call in model.calls[::2]]
    assert asked == ["How much is a transfer?", "How long do refunds take?"]
    assert result.attempts == 2


def test_when_one_question_of_a_message_is_declined_the_whole_answer_is() -> None:
    model = FakeChatModel().enqueue("3", "0.02", "none")
    result = generate_answer(
        model, BARE, question="q", conversation="c", passages=TWO, each=["a b c?", "d e f?"]
    )
    assert result.value is not None and not result.value.answerable


def test_a_reply_that_copies_listed_sentences_out_names_them_even_cut_off() -> None:
    sentences = numbered(TWO)[0]
    # The model's own numbering, the second line cut off by the token limit.
    draft = parse_extract("1. Open Orders and tap Refund.\n2. Each transfer co", sentences)
    assert draft is not None
    assert draft.answer == "Open Orders and tap Refund. Each transfer costs $2."


def test_a_copied_line_in_the_models_own_words_names_no_sentence() -> None:
    sentences = numbered(TWO)[0]
    assert parse_extract("1. Refunds can be asked for within a week.", sentences) is None
    assert parse_extract("- Open Orders", sentences) is None  # too few words to be sure


# answer@10: passages headed without their article id; the customer's message once, after
# the conversation before it.
SHORT = load_prompt("answer@10").bind(sample_profile().prompt_fields())


def test_a_prompt_can_head_its_passages_without_their_article_ids() -> None:
    shown = numbered(TWO, SHORT.passage_heading)[1]
    assert shown.startswith("Refund deadlines > Deadlines\n1. Refunds must")
    assert "[ref-001]" not in shown


def test_the_customers_own_message_and_the_turns_before_it_fill_the_prompt() -> None:
    model = FakeChatModel().enqueue("2", "0.01")
    result = generate_answer(
        model,
        SHORT,
        question="How long? (the core issue, which the prompt leaves out)",
        conversation="c",
        passages=TWO,
        latest=Latest(message="And how do I ask?", earlier="\ncustomer: Refunds?"),
    )
    assert result.value is not None and result.value.answer == "Open Orders and tap Refund."
    shown = model.calls[0][-1].content
    assert shown.endswith(
        "Earlier in the conversation: \ncustomer: Refunds?\n\n"
        "Customer's question: And how do I ask?"
    )
    assert "core issue" not in shown


def test_the_latest_message_comes_apart_from_the_turns_before_it() -> None:
    turns = [
        Turn(role="customer", text="Refunds?"),
        Turn(role="assistant", text="Within 7 days."),
        Turn(role="customer", text="And how?"),
    ]
    assert Latest.of(turns) == Latest(
        message="And how?", earlier="\ncustomer: Refunds?\nassistant: Within 7 days."
    )
    assert Latest.of(turns[:1]) == Latest(message="Refunds?", earlier=NO_EARLIER)
