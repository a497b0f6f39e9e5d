import threading

from assistant.desk import AgentDesk, RegressionRequest
from assistant.escalations.models import NewEscalation
from assistant.storage import Database
from assistant.storage.experiments import Outcome


def test_an_exposure_is_written_once_per_unit_even_when_raced(any_database: Database) -> None:
    barrier = threading.Barrier(4)

    def expose() -> None:
        barrier.wait()
        any_database.experiments.expose("exp", "conversation:1", "control")

    threads = [threading.Thread(target=expose) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    any_database.experiments.expose("exp", "conversation:2", "treatment")
    any_database.experiments.expose("other", "conversation:1", "b")
    assert any_database.experiments.exposures("exp") == {"control": 1, "treatment": 1}


def test_outcomes_come_back_with_false_escalations_from_agents(
    any_database: Database, any_desk: AgentDesk
) -> None:
    convo = any_database.conversations.create()
    message = any_database.conversations.add_message(convo.id, role="customer", text="hi")
    case = any_desk.escalate(
        NewEscalation(
            conversation_id=convo.id,
            message_id=message.id,
            reasons=["ungrounded"],
            tier=1,
            issue_type="tips",
            core_issue="hi",
            transcript=[],
            verdict={"outcome": "escalate"},
            evidence={},
        )
    )
    any_desk.claim(case.id, "alice")
    # the agent says the assistant should have answered this one
    any_desk.resolve(case.id, "alice", reply="Hello!", regression=RegressionRequest())
    store = any_database.experiments
    store.record(
        "exp",
        Outcome(
            unit_id="u1",
            variant="control",
            conversation_id=convo.id,
            message_id=message.id,
            escalated=True,
            escalation_id=case.id,
            latency_ms=12.5,
        ),
    )
    store.record(
        "exp",
        Outcome(
            unit_id="u2",
            variant="treatment",
            conversation_id=convo.id,
            message_id=message.id,
            escalated=False,
        ),
    )
    outcomes = store.outcomes("exp")
    assert [(o.unit_id, o.escalated, o.false_escalation) for o in outcomes] == [
        ("u1", True, True),
        ("u2", False, False),
    ]
    assert outcomes[0].latency_ms == 12.5
    assert store.outcomes("none") == []
