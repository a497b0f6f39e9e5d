import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest

from assistant.chat import ChatService, persist
from assistant.desk import AgentDesk
from assistant.escalations.models import EscalationRecord, NewEscalation
from assistant.pipeline.assistant import Assistant
from assistant.pipeline.reply import Reply
from assistant.pipeline.stages import Screened
from assistant.storage import Database, StoredMessage
from assistant.storage.tables import utcnow
from core.conversation import Turn
from core.errors import DatabaseError
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from guardrails.pii import Redaction
from guardrails.verdict import ReasonCode
from tests.conftest import answer_json

Build = Callable[..., Assistant]


def test_an_answered_message_is_stored_with_its_reply(
    make_assistant: Build, database: Database, desk: AgentDesk
) -> None:
    model = FakeChatModel().enqueue(
        answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"])
    )
    service = ChatService(database=database, desk=desk, assistant=make_assistant(model))
    convo = database.conversations.create()
    outcome = service.post_message(convo.id, "How much does an Instant Pay cash-out cost?")
    assert outcome.reply.answered
    assert outcome.escalation_id is None
    history = database.conversations.get(convo.id).messages
    assert [m.role for m in history] == ["customer", "assistant"]
    trace = history[1].trace
    assert trace is not None
    assert [c.model_dump() for c in trace.citations] == [
        {"article_id": "pay-002", "title": "Instant Pay for couriers"}
    ]
    assert trace.reasoning == "The passage states it."
    assert database.escalations.page().total == 0


def test_a_crashing_assistant_still_keeps_the_message_and_escalates(
    make_assistant: Build, database: Database, desk: AgentDesk
) -> None:
    class Crashing(Assistant):
        def reply_to(self, screened: Screened) -> Reply:
            raise RuntimeError("boom")

    base = make_assistant(FakeChatModel())
    crashing = Crashing(
        model=base.model, embedder=base.embedder, searcher=base.searcher, classifier=base.classifier
    )
    service = ChatService(database=database, desk=desk, assistant=crashing)
    convo = database.conversations.create()
    outcome = service.post_message(convo.id, "Where is my order?")
    assert not outcome.reply.answered
    assert outcome.escalation_id is not None
    record = database.escalations.get(outcome.escalation_id)
    assert record.reasons == [ReasonCode.INTERNAL_ERROR.value]
    assert record.transcript == [Turn(role="customer", text="Where is my order?")]
    # a failing system is served before ordinary questions (priority rule system_failure)
    assert record.priority == "P2"
    assert database.conversations.get(convo.id).messages[0].text == "Where is my order?"


def test_an_escalation_records_transcript_verdict_evidence_and_is_queued_first(
    make_assistant: Build, database: Database, desk: AgentDesk
) -> None:
    model = FakeChatModel().enqueue(
        answer_json("You can request a refund within 30 days of delivery.", ["ref-001"]),
        '{"grounding": {"rationale": "30 is not 7", "ok": false}, '
        '"coherence": {"rationale": "", "ok": true}, "compliance": {"rationale": "", "ok": true}}',
    )
    service = ChatService(database=database, desk=desk, assistant=make_assistant(model))
    convo = database.conversations.create()
    outcome = service.post_message(convo.id, "How long do I have to request a refund?")
    assert outcome.escalation_id is not None
    record = database.escalations.get(outcome.escalation_id)
    assert "ungrounded" in record.reasons
    assert record.status == "open"
    assert record.issue_type == "refunds"
    assert record.priority == "P2"  # refunds are payments: rule "payments"
    withheld = record.evidence.withheld_answer or ""
    assert withheld.startswith("You can request a refund within 30 days")
    assert record.evidence.passages[0].article_id == "ref-001"
    assert record.verdict.flagged
    assert [e.action for e in record.events] == ["created"]
    # the handoff message points at the case, and the case was written first
    handoff = database.conversations.get(convo.id).messages[-1]
    assert handoff.trace is not None and handoff.trace.escalation_id == record.id


def test_the_customers_message_is_redacted_once_and_stored_as_redacted(
    make_assistant: Build, database: Database, desk: AgentDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.pipeline.stages as stages

    seen: list[str] = []
    real = stages.redact

    def counting(text: str) -> Redaction:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(stages, "redact", counting)
    model = FakeChatModel().enqueue(
        answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"])
    )
    service = ChatService(database=database, desk=desk, assistant=make_assistant(model))
    convo = database.conversations.create()
    text = "How much does Instant Pay cost? Write to sam@example.com"
    service.post_message(convo.id, text)
    assert seen.count(text) == 1
    stored = database.conversations.get(convo.id).messages[0]
    assert "sam@example.com" not in stored.text and stored.pii == ["email"]
    # the model saw the redacted text only
    assert all("sam@example.com" not in m.content for call in model.calls for m in call)


def test_a_second_message_waits_for_the_first_and_is_answered_with_it_in_the_history(
    make_assistant: Build, database: Database, desk: AgentDesk
) -> None:
    first_started, release = threading.Event(), threading.Event()
    prompts: list[str] = []

    def respond(messages: Sequence[ChatMessage]) -> str:
        prompts.append(messages[-1].content)
        if len(prompts) == 1:
            first_started.set()
            assert release.wait(10)
        return answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"])

    service = ChatService(
        database=database, desk=desk, assistant=make_assistant(FakeChatModel(respond))
    )
    convo = database.conversations.create()
    first = threading.Thread(
        target=service.post_message, args=(convo.id, "How much does an Instant Pay cash-out cost?")
    )
    first.start()
    assert first_started.wait(10)
    second = threading.Thread(
        target=service.post_message, args=(convo.id, "And how many cash-outs per day?")
    )
    second.start()
    second.join(0.3)
    assert second.is_alive()  # waiting for the first
    assert len(database.conversations.get(convo.id).messages) == 1  # only the first is stored
    release.set()
    first.join(10)
    second.join(10)
    history = database.conversations.get(convo.id).messages
    assert [m.role for m in history] == ["customer", "assistant", "customer", "assistant"]
    assert history[2].text == "And how many cash-outs per day?"
    assert len(prompts) == 2 and "$0.85" in prompts[1]  # the first reply is in its history
    assert len(service.locks) == 0


def test_a_message_a_stopped_server_left_unanswered_becomes_a_case_once(
    make_assistant: Build, database: Database, desk: AgentDesk
) -> None:
    service = ChatService(database=database, desk=desk, assistant=make_assistant(FakeChatModel()))
    long_ago = utcnow() - timedelta(minutes=30)
    abandoned = database.conversations.create()
    database.conversations.add_message(
        abandoned.id, role="customer", text="Where is my refund?", at=long_ago
    )
    answered = database.conversations.create()
    database.conversations.add_message(answered.id, role="customer", text="Hi", at=long_ago)
    database.conversations.add_message(answered.id, role="assistant", text="Hello", at=long_ago)
    in_flight = database.conversations.create()  # perhaps being answered by another process
    database.conversations.add_message(in_flight.id, role="customer", text="Still there?")

    recovered = service.recover()

    assert len(recovered) == 1
    case = database.escalations.get(recovered[0])
    assert case.conversation_id == abandoned.id
    assert case.reasons == [ReasonCode.INTERNAL_ERROR]
    assert "interrupted" in case.verdict.detail
    history = database.conversations.get(abandoned.id).messages
    assert [m.role for m in history] == ["customer", "assistant"]
    assert history[1].trace is not None and history[1].trace.escalation_id == recovered[0]
    assert len(database.conversations.get(in_flight.id).messages) == 1
    assert service.recover() == []


def test_a_database_that_fails_for_a_moment_after_the_message_is_stored_loses_nothing(
    make_assistant: Build,
    database: Database,
    desk: AgentDesk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The case and the reply of a stored message are written again while the database is
    down (a restart), so the message ends with both."""
    service = ChatService(database=database, desk=desk, assistant=make_assistant(FakeChatModel()))
    convo = database.conversations.create()
    failures = {"escalate": 2, "reply": 2}
    add_message, escalate = database.conversations.add_message, desk.escalate

    def flaky_add(conversation_id: str, **fields: Any) -> StoredMessage:
        if fields["role"] == "assistant" and failures["reply"]:
            failures["reply"] -= 1
            raise DatabaseError("database failed: OperationalError: server closed the connection")
        return add_message(conversation_id, **fields)

    def flaky_escalate(case: NewEscalation) -> EscalationRecord:
        if failures["escalate"]:
            failures["escalate"] -= 1
            raise DatabaseError("database failed: OperationalError: connection refused")
        return escalate(case)

    monkeypatch.setattr(database.conversations, "add_message", flaky_add)
    monkeypatch.setattr(desk, "escalate", flaky_escalate)
    monkeypatch.setattr("assistant.chat.time.sleep", lambda _: None)

    outcome = service.post_message(convo.id, "Where is my refund?")  # the fake model is down

    assert failures == {"escalate": 0, "reply": 0}
    assert outcome.escalation_id is not None
    assert [m.role for m in database.conversations.get(convo.id).messages] == [
        "customer",
        "assistant",
    ]
    assert database.escalations.get(outcome.escalation_id).message_id == outcome.customer_message.id


def test_a_database_down_longer_than_the_patience_gives_up_with_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr("assistant.chat.time.monotonic", lambda: float(next(clock)))
    monkeypatch.setattr("assistant.chat.time.sleep", lambda _: None)
    calls = []

    def down() -> None:
        calls.append(1)
        raise DatabaseError("database failed")

    with pytest.raises(DatabaseError):
        persist(down, patience=30)
    assert 2 <= len(calls) <= 4
