from collections.abc import Callable

import pytest

from assistant.conversation import Turn
from assistant.llm.fake import FakeChatModel
from assistant.pipeline import Assistant, Reply
from assistant.service import ChatService
from assistant.storage import ConversationStore
from guardrails.verdict import ReasonCode
from tests.conftest import answer_json

Build = Callable[..., Assistant]


@pytest.fixture
def database() -> ConversationStore:
    return ConversationStore.connect("sqlite:///:memory:")


def test_an_answered_message_is_stored_with_its_reply(
    make_assistant: Build, database: ConversationStore
) -> None:
    model = FakeChatModel().enqueue(
        answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"])
    )
    service = ChatService(store=database, assistant=make_assistant(model))
    convo = database.create_conversation()
    outcome = service.post_message(convo.id, "How much does an Instant Pay cash-out cost?")
    assert outcome.reply.answered
    assert outcome.escalation_id is None
    history = database.get_conversation(convo.id).messages
    assert [m.role for m in history] == ["customer", "assistant"]
    assert history[1].meta["citations"] == [
        {"article_id": "pay-002", "title": "Instant Pay for couriers"}
    ]
    assert history[1].meta["trace"]["reasoning"] == "The passage states it."


def test_a_crashing_assistant_still_keeps_the_message_and_escalates(
    make_assistant: Build, database: ConversationStore
) -> None:
    class Crashing(Assistant):
        def respond(self, turns: list[Turn]) -> Reply:  # type: ignore[override]
            raise RuntimeError("boom")

    base = make_assistant(FakeChatModel())
    crashing = Crashing(
        model=base.model, embedder=base.embedder, searcher=base.searcher, classifier=base.classifier
    )
    service = ChatService(store=database, assistant=crashing)
    convo = database.create_conversation()
    outcome = service.post_message(convo.id, "Where is my order?")
    assert not outcome.reply.answered
    assert outcome.escalation_id is not None
    record = database.get_escalation(outcome.escalation_id)
    assert record.reasons == [ReasonCode.INTERNAL_ERROR.value]
    assert record.transcript == [{"role": "customer", "text": "Where is my order?"}]
    assert database.get_conversation(convo.id).messages[0].text == "Where is my order?"


def test_an_escalation_records_transcript_verdict_and_evidence(
    make_assistant: Build, database: ConversationStore
) -> None:
    model = FakeChatModel().enqueue(
        answer_json("You can request a refund within 30 days of delivery.", ["ref-001"]),
        '{"grounding": {"rationale": "30 is not 7", "ok": false}, '
        '"coherence": {"rationale": "", "ok": true}, "compliance": {"rationale": "", "ok": true}}',
    )
    service = ChatService(store=database, assistant=make_assistant(model))
    convo = database.create_conversation()
    outcome = service.post_message(convo.id, "How long do I have to request a refund?")
    assert outcome.escalation_id is not None
    record = database.get_escalation(outcome.escalation_id)
    assert "ungrounded" in record.reasons
    assert record.evidence["withheld_answer"].startswith("You can request a refund within 30 days")
    assert record.evidence["passages"][0]["article_id"] == "ref-001"
    assert record.verdict["flagged"]
