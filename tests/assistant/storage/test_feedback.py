"""Ratings of replies in SQL, on SQLite and PostgreSQL: one row per reply, one case at most."""

from __future__ import annotations

import threading
from datetime import timedelta

from assistant.desk import AgentDesk
from assistant.feedback import FeedbackService
from assistant.pipeline.trace import PassageText, ReplyTrace
from assistant.storage import Database, StoredConversation
from assistant.storage.feedback import FeedbackRecord
from assistant.storage.tables import utcnow
from guardrails.verdict import Verdict


def answered_conversation(database: Database) -> StoredConversation:
    convo = database.conversations.create()
    database.conversations.add_message(convo.id, role="customer", text="How long for a refund?")
    trace = ReplyTrace(
        answered=True,
        issue_type="refunds",
        verdict=Verdict(outcome="pass", tier=1, sources=["ref-001"]),
        core_issue="refund deadline",
        passages=[PassageText(article_id="ref-001", text="Refunds within 7 days.")],
    )
    database.conversations.add_message(
        convo.id,
        role="assistant",
        text="You have 7 days.",
        meta=trace.model_dump(mode="json"),
    )
    return database.conversations.get(convo.id)


def test_ratings_sent_at_once_open_one_case(any_database: Database, any_desk: AgentDesk) -> None:
    convo = answered_conversation(any_database)
    reply = convo.messages[-1]
    service = FeedbackService(any_database, any_desk.rules)
    barrier = threading.Barrier(4)
    results: list[FeedbackRecord] = []

    def down() -> None:
        barrier.wait()
        results.append(service.give(convo, reply.id, rating="down", comment="wrong"))

    threads = [threading.Thread(target=down) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert sum(r.opened_case for r in results) == 1
    assert len({r.escalation_id for r in results}) == 1
    page = any_database.escalations.page()
    assert page.total == 1
    case = page.items[0]
    assert case.reasons == ["customer_feedback"]
    assert case.core_issue == "refund deadline"
    assert case.message_id == convo.messages[0].id  # the customer's message it answered
    assert case.priority == "P2"  # refunds: the same rules as any case
    events = any_database.escalations.get(case.id).events
    assert [e.action for e in events].count("customer_feedback") == 4


def test_the_conversation_loads_each_replys_latest_rating(
    any_database: Database, any_desk: AgentDesk
) -> None:
    convo = answered_conversation(any_database)
    reply = convo.messages[-1]
    service = FeedbackService(any_database, any_desk.rules)
    start = utcnow()
    service.give(convo, reply.id, rating="up", comment="thanks", now=start)
    service.give(convo, reply.id, rating="up", now=start + timedelta(minutes=3))
    loaded = any_database.conversations.get(convo.id).messages
    assert loaded[0].feedback is None
    feedback = loaded[1].feedback
    assert feedback is not None
    assert (feedback.rating, feedback.comment) == ("up", None)
    assert feedback.updated_at - feedback.created_at == timedelta(minutes=3)
    recent = any_database.feedback.recent(since=start + timedelta(minutes=1))
    assert [(f.message_id, f.rating) for f in recent] == [(reply.id, "up")]
    assert any_database.feedback.recent(since=start + timedelta(minutes=5)) == []
    assert any_database.escalations.page().total == 0


def test_a_declined_or_untraced_reply_is_rated_without_a_case(
    any_database: Database, any_desk: AgentDesk
) -> None:
    convo = any_database.conversations.create()
    any_database.conversations.add_message(convo.id, role="customer", text="hi")
    legacy = any_database.conversations.add_message(convo.id, role="assistant", text="Hello!")
    stored = any_database.conversations.get(convo.id)
    service = FeedbackService(any_database, any_desk.rules)
    given = service.give(stored, legacy.id, rating="down")
    assert (given.rating, given.escalation_id, given.opened_case) == ("down", None, False)
    assert any_database.escalations.page().total == 0
