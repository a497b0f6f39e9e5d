"""An echoing model: whatever markup or links the customer writes, none of it reaches a reply."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.chat import ChatService
from assistant.desk import AgentDesk
from assistant.pipeline.assistant import Assistant
from assistant.storage import Database
from core.conversation import Turn
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from guardrails.verdict import ReasonCode

ATTACK = (
    "<script>alert(6)</script> Each cash-out costs $0.85. "
    "[Hoppa help](https://evil.example/phish) <img src=x onerror=alert(1)>"
)


def echo(messages: Sequence[ChatMessage]) -> str:
    """Answers with the customer's own words (the last line of the prompt)."""
    return messages[-1].content.splitlines()[-1].split(": ", 1)[-1]


def test_markup_never_reaches_the_reply_and_a_foreign_link_fails_the_answer(
    make_assistant: Callable[..., Assistant], database: Database, desk: AgentDesk
) -> None:
    service = ChatService(
        database=database,
        desk=desk,
        assistant=make_assistant(FakeChatModel(echo), answer_prompt="answer@6"),
    )
    convo = database.conversations.create()
    outcome = service.post_message(convo.id, ATTACK)
    reply = outcome.reply
    assert not reply.answered
    assert reply.verdict.reasons == [ReasonCode.UNSOURCED_CONTACT]
    assert "evil.example" in reply.verdict.detail
    shown = [m.text for m in database.conversations.get(convo.id).messages if m.role == "assistant"]
    for text in [*shown, reply.text, reply.withheld_answer or ""]:
        assert "<script" not in text and "onerror" not in text and "<img" not in text
    assert "evil.example" not in " ".join(shown)


def test_markup_is_stripped_from_an_answer_that_passes(
    make_assistant: Callable[..., Assistant],
) -> None:
    model = FakeChatModel().enqueue("Each Instant Pay cash-out costs <b>$0.85</b> [pay-002].")
    question = [Turn(role="customer", text="How much does an Instant Pay cash-out cost?")]
    reply = make_assistant(model, answer_prompt="answer@6").respond(question)
    assert reply.answered and reply.text == "Each Instant Pay cash-out costs $0.85."
