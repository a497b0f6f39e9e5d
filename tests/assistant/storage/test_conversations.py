from pathlib import Path

import pytest

from assistant.storage import Database
from core.errors import DatabaseError, NotFoundError


def test_messages_come_back_in_order_with_their_metadata(any_database: Database) -> None:
    store = any_database.conversations
    convo = store.create(customer_ref="c-1", owner="acme-web")
    for i in range(12):  # same clock tick or not, the order is the order of writing
        store.add_message(convo.id, role="customer", text=f"m{i}")
    store.add_message(convo.id, role="assistant", text="hello", meta={"answered": True})
    loaded = store.get(convo.id)
    assert loaded.customer_ref == "c-1"
    assert loaded.owner == "acme-web"
    assert [m.text for m in loaded.messages] == [f"m{i}" for i in range(12)] + ["hello"]
    assert loaded.messages[-1].meta == {"answered": True}
    assert loaded.created_at.tzinfo is not None


def test_unknown_conversations_are_not_found(database: Database) -> None:
    with pytest.raises(NotFoundError):
        database.conversations.get("nope")
    with pytest.raises(NotFoundError):
        database.conversations.add_message("nope", role="customer", text="hi")


def test_an_unreachable_database_is_a_database_error(tmp_path: Path) -> None:
    database = Database.connect(f"sqlite:///{tmp_path}/t.db")
    (tmp_path / "t.db").unlink()
    (tmp_path / "t.db").mkdir()  # the file is now a directory: every query fails
    database.close()
    assert not database.is_ready()
    with pytest.raises(DatabaseError):
        database.conversations.create()
