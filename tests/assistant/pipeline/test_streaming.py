from __future__ import annotations

import json
from collections.abc import Callable

from assistant.pipeline.answer import json_quotes_in
from assistant.pipeline.assistant import Assistant
from assistant.pipeline.reply import HANDOFF_MESSAGE
from assistant.pipeline.streaming import Progress, Sentence, cited_sentences
from core.conversation import Turn
from core.llm.fake import FakeChatModel
from guardrails.quotes import Quote
from guardrails.verdict import ReasonCode
from tests.conftest import answer_json

Build = Callable[..., Assistant]
QUESTION = [Turn(role="customer", text="How much does an Instant Pay cash-out cost?")]
TRUE = "Each Instant Pay cash-out costs $0.85 [pay-002]."
ALSO_TRUE = "You can cash out up to 5 times per day [pay-002]."
FALSE = "You can cash out up to 9 times per day [pay-002]."


def streamed(assistant: Assistant) -> tuple[list[Progress | Sentence], object]:
    events: list[Progress | Sentence] = []
    reply = assistant.reply_to(assistant.screen(QUESTION), events.append)
    return events, reply


def sentences(events: list[Progress | Sentence]) -> list[str]:
    return [e.text for e in events if isinstance(e, Sentence)]


def test_markers_go_to_their_sentence_even_after_its_full_stop() -> None:
    raw = "Each cash-out costs $0.85. [pay-002] Yes. It unlocks after 25 deliveries [pay-003]."
    assert cited_sentences(raw) == [
        ("Each cash-out costs $0.85.", ["pay-002"]),
        ("Yes. It unlocks after 25 deliveries.", ["pay-003"]),
    ]


def test_a_true_sentence_then_a_false_one_shows_only_the_first_and_escalates(
    make_assistant: Build,
) -> None:
    model = FakeChatModel().enqueue(f"{TRUE} {FALSE}")
    events, reply = streamed(make_assistant(model, answer_prompt="answer@5"))
    assert sentences(events) == ["Each Instant Pay cash-out costs $0.85."]
    shown = next(e for e in events if isinstance(e, Sentence))
    assert [c.article_id for c in shown.citations] == ["pay-002"]
    assert not reply.answered
    assert reply.verdict.reasons == [ReasonCode.UNGROUNDED]
    assert reply.shown == ["Each Instant Pay cash-out costs $0.85."]
    assert reply.text == f"Each Instant Pay cash-out costs $0.85.\n\n{HANDOFF_MESSAGE}"
    assert "9 times" in (reply.withheld_answer or "")  # the whole draft, for the agent
    assert "9 times" not in " ".join(sentences(events))


def test_each_sentence_is_sent_as_soon_as_it_passes_and_the_last_after_the_check(
    make_assistant: Build,
) -> None:
    sent_while_writing: list[str] = []
    events: list[Progress | Sentence] = []

    def responder(_: object) -> str:
        return f"{TRUE} {ALSO_TRUE}"

    model = FakeChatModel(responder)
    assistant = make_assistant(model, answer_prompt="answer@5")

    def sink(event: Progress | Sentence) -> None:
        events.append(event)
        if isinstance(event, Sentence) and not any(
            isinstance(e, Progress) and e.stage == "guardrail" for e in events
        ):
            sent_while_writing.append(event.text)

    reply = assistant.reply_to(assistant.screen(QUESTION), sink)
    assert reply.answered
    assert sent_while_writing == ["Each Instant Pay cash-out costs $0.85."]
    assert sentences(events) == [
        "Each Instant Pay cash-out costs $0.85.",
        "You can cash out up to 5 times per day.",
    ]
    stages = [e.stage for e in events if isinstance(e, Progress)]
    assert stages == [
        "condense",
        "classify",
        "retrieve",
        "rerank",
        "focus",
        "generate",
        "guardrail",
    ]
    assert reply.shown == sentences(events)


def test_a_sentence_tier_1_holds_is_sent_only_once_the_judge_passes_the_answer(
    make_assistant: Build,
) -> None:
    held = "Instant Pay is a feature couriers enjoy a lot [pay-002]."
    model = FakeChatModel().enqueue(f"{held} {TRUE}", "Yes")
    events, reply = streamed(make_assistant(model, answer_prompt="answer@5"))
    assert reply.answered and reply.verdict.tier == 2
    assert sentences(events) == [
        "Instant Pay is a feature couriers enjoy a lot.",
        "Each Instant Pay cash-out costs $0.85.",
    ]
    order = [e.stage if isinstance(e, Progress) else "sentence" for e in events]
    assert order.index("sentence") > order.index("guardrail")  # nothing before the judge


def test_a_json_answer_streams_its_answer_string_and_never_the_reasoning(
    make_assistant: Build,
) -> None:
    also = "You can cash out up to 5 times per day [pay-002]."
    model = FakeChatModel().enqueue(answer_json(f"{TRUE} {also}", []))
    events, reply = streamed(make_assistant(model))
    assert reply.answered
    assert sentences(events) == [
        "Each Instant Pay cash-out costs $0.85.",
        "You can cash out up to 5 times per day.",
    ]
    order = [e.stage if isinstance(e, Progress) else "sentence" for e in events]
    assert order.index("sentence") < order.index("guardrail")  # sent while written
    assert all("passage states" not in text for text in sentences(events))


QUOTED = "QUOTES:\n[pay-002] {quote}\nANSWER:\n" + TRUE


def test_a_made_up_quote_holds_the_whole_answer_and_escalates_as_misquoted(
    make_assistant: Build,
) -> None:
    model = FakeChatModel().enqueue(QUOTED.format(quote="Cash-outs cost $0.85 each, always."))
    events, reply = streamed(make_assistant(model, answer_prompt="answer@3"))
    assert sentences(events) == []
    assert not reply.answered
    assert reply.verdict.reasons == [ReasonCode.MISQUOTED]
    assert "Cash-outs cost $0.85 each, always." in reply.verdict.detail


def test_a_verbatim_quote_lets_its_answer_stream(make_assistant: Build) -> None:
    quote = "Each Instant Pay cash-out costs $0.85."
    events, reply = streamed(
        make_assistant(
            FakeChatModel().enqueue(QUOTED.format(quote=quote)), answer_prompt="answer@3"
        )
    )
    assert reply.answered
    assert sentences(events) == ["Each Instant Pay cash-out costs $0.85."]


def quoted_json(quote: str) -> str:
    quotes = [{"article_id": "pay-002", "text": quote}]
    return json.dumps(
        {"quotes": quotes, "answerable": True, "answer": TRUE, "citations": ["pay-002"]}
    )


def test_json_quotes_are_read_once_their_list_is_complete() -> None:
    whole = quoted_json("Each Instant Pay cash-out costs $0.85.")
    cut = whole.index("]") + 1
    assert json_quotes_in(whole[: cut - 2]) == []
    assert json_quotes_in(whole[:cut]) == [
        Quote(article_id="pay-002", text="Each Instant Pay cash-out costs $0.85.")
    ]


def test_a_json_answer_on_a_made_up_quote_never_streams(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(quoted_json("Cash-outs cost $0.85 each, always."))
    events, reply = streamed(make_assistant(model, answer_prompt="answer@7"))
    assert sentences(events) == []
    assert reply.verdict.reasons == [ReasonCode.MISQUOTED]


def test_a_json_answer_on_verbatim_quotes_streams(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(quoted_json("Each Instant Pay cash-out costs $0.85."))
    events, reply = streamed(make_assistant(model, answer_prompt="answer@7"))
    assert reply.answered
    assert sentences(events) == ["Each Instant Pay cash-out costs $0.85."]
    assert reply.reasoning == "[pay-002] Each Instant Pay cash-out costs $0.85."


def test_an_extractive_answer_sends_its_sentences_once_checked_and_never_the_numbers(
    make_assistant: Build,
) -> None:
    model = FakeChatModel().enqueue("SENTENCES: 1, 2")
    events, reply = streamed(make_assistant(model, answer_prompt="answer@8", rerank="none"))
    assert reply.answered
    shown = sentences(events)
    assert shown == reply.shown and len(shown) == 2
    assert " ".join(shown) == reply.text
    assert not any("SENTENCES" in text for text in shown)
    evidence = " ".join(p.text for p in reply.passages)
    assert all(text in evidence for text in shown)  # the passages' own words
