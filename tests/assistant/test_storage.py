from pathlib import Path

import pytest

from assistant.errors import DatabaseError, NotFoundError
from assistant.storage import ConversationStore


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore.connect(f"sqlite:///{tmp_path}/t.db")


def test_messages_come_back_in_order_with_their_metadata(store: ConversationStore) -> None:
    convo = store.create_conversation(customer_ref="c-1")
    store.add_message(convo.id, role="customer", text="hi")
    store.add_message(convo.id, role="assistant", text="hello", meta={"answered": True})
    loaded = store.get_conversation(convo.id)
    assert loaded.customer_ref == "c-1"
    assert [(m.role, m.text) for m in loaded.messages] == [
        ("customer", "hi"),
        ("assistant", "hello"),
    ]
    assert loaded.messages[1].meta == {"answered": True}


def test_unknown_conversations_are_not_found(store: ConversationStore) -> None:
    with pytest.raises(NotFoundError):
        store.get_conversation("nope")
    with pytest.raises(NotFoundError):
        store.add_message("nope", role="customer", text="hi")


def test_escalations_are_stored_open_and_survive_reopening_the_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    store = ConversationStore.connect(url)
    convo = store.create_conversation()
    message = store.add_message(convo.id, role="customer", text="refund?")
    record = store.add_escalation(
        conversation_id=convo.id,
        message_id=message.id,
        reasons=["ungrounded"],
        tier=2,
        issue_type="refunds",
        core_issue="refund?",
        transcript=[{"role": "customer", "text": "refund?"}],
        verdict={"outcome": "escalate"},
        evidence={"withheld_answer": "30 days"},
    )
    store.engine.dispose()
    reopened = ConversationStore.connect(url)
    loaded = reopened.get_escalation(record.id)
    assert loaded.status == "open"
    assert loaded.reasons == ["ungrounded"]
    assert loaded.evidence["withheld_answer"] == "30 days"
    assert [e.id for e in reopened.list_escalations(status="open")] == [record.id]
    with pytest.raises(NotFoundError):
        reopened.get_escalation("missing")


def test_an_unreachable_database_is_a_database_error(tmp_path: Path) -> None:
    store = ConversationStore.connect(f"sqlite:///{tmp_path}/t.db")
    (tmp_path / "t.db").unlink()
    (tmp_path / "t.db").mkdir()  # the file is now a directory: every query fails
    store.engine.dispose()
    assert not store.is_ready()
    with pytest.raises(DatabaseError):
        store.create_conversation()
