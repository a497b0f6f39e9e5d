import threading
from datetime import UTC, datetime, timedelta

import pytest

from assistant.desk import AgentDesk, RegressionRequest
from assistant.escalations.models import NewEscalation, QueueFilter, Status
from assistant.storage import Database
from core.errors import ConflictError, ForbiddenError, NotFoundError

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def escalate(
    desk: AgentDesk,
    *,
    issue_type: str = "order_problems",
    reasons: tuple[str, ...] = ("ungrounded",),
    question: str = "Where is my order?",
) -> str:
    database = desk.database
    convo = database.conversations.create()
    message = database.conversations.add_message(convo.id, role="customer", text=question)
    database.conversations.add_message(convo.id, role="assistant", text="A person will follow up.")
    record = desk.escalate(
        NewEscalation(
            conversation_id=convo.id,
            message_id=message.id,
            reasons=list(reasons),
            tier=1,
            issue_type=issue_type,
            core_issue=question,
            transcript=[{"role": "customer", "text": question}],
            verdict={"outcome": "escalate", "flagged": []},
            evidence={"withheld_answer": "It arrives in 30 days."},
        )
    )
    return record.id


def test_a_new_case_is_open_with_priority_due_time_and_a_created_event(
    any_desk: AgentDesk,
) -> None:
    case = any_desk.database.escalations.get(escalate(any_desk, issue_type="safety_incidents"))
    assert case.status == Status.OPEN
    assert case.priority == "P1"
    assert case.due_at - case.created_at == timedelta(minutes=15)
    assert [(e.actor, e.action) for e in case.events] == [("tether", "created")]
    assert case.events[0].detail == {"priority_rule": "safety_incident"}


def test_the_queue_serves_by_priority_then_age_and_filters_and_pages(
    any_desk: AgentDesk,
) -> None:
    store = any_desk.database.escalations
    order = escalate(any_desk, issue_type="order_problems")  # P3
    pay = escalate(any_desk, issue_type="payments_and_pay")  # P2
    safety = escalate(any_desk, issue_type="safety_incidents")  # P1
    outage = escalate(any_desk, issue_type="order_problems", reasons=("llm_error",))  # P2
    assert [c.id for c in store.page().items] == [safety, pay, outage, order]
    assert [c.id for c in store.page(sort="newest").items] == [outage, safety, pay, order]
    assert [c.id for c in store.page(QueueFilter(reason="llm_error")).items] == [outage]
    assert [c.id for c in store.page(QueueFilter(priority="P2")).items] == [pay, outage]
    assert [c.id for c in store.page(QueueFilter(issue_type="order_problems")).items] == [
        outage,
        order,
    ]
    page = store.page(limit=2, offset=2)
    assert ([c.id for c in page.items], page.total) == ([outage, order], 4)
    any_desk.claim(pay, "alice")
    assert [c.id for c in store.page(QueueFilter(status=[Status.CLAIMED])).items] == [pay]
    assert [c.id for c in store.page(QueueFilter(assignee="alice")).items] == [pay]
    later = datetime.now(UTC) + timedelta(minutes=30)
    assert store.page(QueueFilter(min_age_minutes=20), now=later).total == 4
    assert store.page(QueueFilter(max_age_minutes=20), now=later).total == 0


def test_counts_by_status_reason_and_priority_with_overdue(any_desk: AgentDesk) -> None:
    store = any_desk.database.escalations
    escalate(any_desk, issue_type="safety_incidents", reasons=("ungrounded", "non_compliant"))
    escalate(any_desk, reasons=("no_relevant_articles",))
    done = escalate(any_desk)
    any_desk.claim(done, "alice")
    any_desk.resolve(done, "alice", reply="Sorted.")
    counts = store.counts(now=datetime.now(UTC) + timedelta(minutes=20))
    assert counts.by_status == {"open": 2, "resolved": 1}
    assert counts.by_reason == {"ungrounded": 1, "non_compliant": 1, "no_relevant_articles": 1}
    assert counts.by_priority == {"P1": 1, "P4": 1}
    assert counts.waiting == 2
    assert counts.overdue == 1  # the P1 case: 15 minutes
    assert counts.oldest_waiting_minutes is not None
    assert counts.oldest_waiting_minutes >= 20


def test_claim_return_claim_resolve_with_an_audit_trail(any_desk: AgentDesk) -> None:
    case_id = escalate(any_desk)
    any_desk.claim(case_id, "alice")
    returned = any_desk.give_back(case_id, "alice", note="not my area")
    assert (returned.status, returned.assignee) == (Status.RETURNED, None)
    any_desk.claim(case_id, "bob")
    any_desk.note(case_id, "bob", "customer is a courier, check pay")
    resolved, message = any_desk.resolve(case_id, "bob", reply="Your order arrives Friday.")
    assert resolved.status == Status.RESOLVED
    assert resolved.assignee == "bob"
    assert [(e.actor, e.action) for e in resolved.events] == [
        ("tether", "created"),
        ("alice", "claimed"),
        ("alice", "returned"),
        ("bob", "claimed"),
        ("bob", "note"),
        ("bob", "resolved"),
    ]
    assert resolved.events[2].detail == {"note": "not my area"}
    assert [n.detail["text"] for n in resolved.notes] == ["customer is a courier, check pay"]
    assert all(e.at.tzinfo is not None for e in resolved.events)
    conversation = any_desk.database.conversations.get(resolved.conversation_id)
    assert conversation.messages[-1] == message
    assert message.agent_reply is not None
    assert (message.role, message.agent_reply.from_person, message.agent_reply.agent) == (
        "agent",
        True,
        "bob",
    )
    # notes are internal: nothing of them is in the customer's conversation
    assert "courier" not in str(conversation.messages)


def test_wrong_state_transitions_are_refused_with_the_reason(any_desk: AgentDesk) -> None:
    case_id = escalate(any_desk)
    with pytest.raises(ConflictError, match="claim it before you resolve"):
        any_desk.resolve(case_id, "alice", reply="hi")
    with pytest.raises(ConflictError, match="claim it before you return"):
        any_desk.give_back(case_id, "alice")
    any_desk.claim(case_id, "alice")
    with pytest.raises(ConflictError, match="already claimed by alice"):
        any_desk.claim(case_id, "bob")
    with pytest.raises(ForbiddenError, match="claimed by alice"):
        any_desk.resolve(case_id, "bob", reply="hi")
    with pytest.raises(ForbiddenError):
        any_desk.give_back(case_id, "bob")
    any_desk.resolve(case_id, "alice", reply="done")
    with pytest.raises(ConflictError, match="already resolved"):
        any_desk.claim(case_id, "bob")
    for action in (
        lambda: any_desk.claim("missing", "alice"),
        lambda: any_desk.note("missing", "alice", "x"),
        lambda: any_desk.resolve("missing", "alice", reply="x"),
        lambda: any_desk.give_back("missing", "alice"),
    ):
        with pytest.raises(NotFoundError):
            action()
    # a refused action leaves no trace and no reply
    record = any_desk.database.escalations.get(case_id)
    assert [e.action for e in record.events] == ["created", "claimed", "resolved"]
    messages = any_desk.database.conversations.get(record.conversation_id).messages
    assert [m.role for m in messages] == ["customer", "assistant", "agent"]


def test_resolving_can_record_a_kb_gap_and_a_regression_case(any_desk: AgentDesk) -> None:
    case_id = escalate(any_desk, question="Do you deliver to Mars?")
    any_desk.claim(case_id, "alice")
    record, _ = any_desk.resolve(
        case_id,
        "alice",
        reply="We deliver only within the city zones listed in the app.",
        kb_gap=True,
        regression=RegressionRequest(expect="escalate", tags=["out_of_kb"]),
    )
    gaps = any_desk.database.escalations.kb_gaps()
    assert [(g.question, g.created_by) for g in gaps] == [("Do you deliver to Mars?", "alice")]
    assert record.resolution.kb_gap_id == gaps[0].id
    cases = any_desk.database.escalations.regression_cases()
    assert len(cases) == 1
    assert cases[0].id == record.resolution.regression_case_id
    assert [t.model_dump() for t in cases[0].turns] == [
        {"role": "customer", "text": "Do you deliver to Mars?"}
    ]
    assert cases[0].expect == "escalate"
    assert cases[0].tags == ["regression", "ungrounded", "out_of_kb"]
    assert cases[0].reference_answer.startswith("We deliver only")
    assert [e.action for e in record.events][-3:] == ["kb_gap", "regression_case", "resolved"]


def test_exactly_one_of_many_concurrent_claims_wins(any_desk: AgentDesk) -> None:
    """Eight agents hit claim at the same instant on each of 10 cases."""
    agents = [f"agent-{i}" for i in range(8)]
    for _ in range(10):
        case_id = escalate(any_desk)
        barrier = threading.Barrier(len(agents))
        outcomes: dict[str, str] = {}

        def claim(
            agent: str,
            case_id: str = case_id,
            barrier: threading.Barrier = barrier,
            outcomes: dict[str, str] = outcomes,
        ) -> None:
            barrier.wait()
            try:
                any_desk.claim(case_id, agent)
                outcomes[agent] = "won"
            except ConflictError:
                outcomes[agent] = "conflict"

        threads = [threading.Thread(target=claim, args=(a,)) for a in agents]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [a for a, o in outcomes.items() if o == "won"]
        assert len(outcomes) == len(agents)
        assert len(winners) == 1, outcomes
        record = any_desk.database.escalations.get(case_id)
        assert record.assignee == winners[0]
        assert [e.action for e in record.events].count("claimed") == 1


def test_escalations_survive_reopening_the_sqlite_file(tmp_path: object, desk: AgentDesk) -> None:
    case_id = escalate(desk)
    url = str(desk.database.engine.url)
    desk.database.close()
    reopened = Database.connect(url)
    assert reopened.escalations.get(case_id).status == Status.OPEN
    reopened.close()
