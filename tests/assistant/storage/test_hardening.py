"""Storage tried from the wrong side: messages racing for one seq, an old database with the
duplicates that race left, conversations owned by a name, and console sessions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.storage import Database
from assistant.storage.conversations import add_message
from assistant.storage.database import MIGRATIONS, alembic_config
from assistant.storage.engine import make_engine
from assistant.storage.keys import Role
from assistant.storage.tables import ConsoleSessionRow, MessageRow

# Migrating to the newest revision, whichever it is.
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def seqs(database: Database, conversation_id: str) -> list[int]:
    with database.session() as session:
        return sorted(
            r.seq
            for r in session.query(MessageRow).filter(MessageRow.conversation_id == conversation_id)
        )


def test_messages_written_at_once_get_one_seq_each(any_database: Database) -> None:
    convo = any_database.conversations.create()

    def write(n: int) -> None:
        for i in range(5):
            any_database.conversations.add_message(convo.id, role="customer", text=f"{n}-{i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(8)))
    assert seqs(any_database, convo.id) == list(range(1, 41))


def test_two_messages_cannot_share_a_seq(database: Database) -> None:
    convo = database.conversations.create()
    database.conversations.add_message(convo.id, role="customer", text="first")
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(
            MessageRow.__table__.insert().values(
                id="dup",
                conversation_id=convo.id,
                seq=1,
                role="customer",
                text="again",
                created_at=datetime.now(UTC),
                meta={},
            )
        )


def test_losing_the_race_for_a_seq_retries_with_the_next_one(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    convo = database.conversations.create()
    database.conversations.add_message(convo.id, role="customer", text="first")
    with database.session() as session:
        real = session.scalar
        stale = iter([0])  # the first read misses the message another writer just stored

        def scalar(statement: Any, *args: Any, **kwargs: Any) -> Any:
            if "max" in str(statement).lower():
                value = next(stale, None)
                if value is not None:
                    return value
            return real(statement, *args, **kwargs)

        monkeypatch.setattr(session, "scalar", scalar)
        message = add_message(session, convo.id, role="agent", text="second", meta=None)
        assert message.text == "second"
    loaded = database.conversations.get(convo.id)
    assert [m.text for m in loaded.messages] == ["first", "second"]
    assert seqs(database, convo.id) == [1, 2]


# -- migration 0004 on a database of 0003 -----------------------------------------------------


def old_database(url: str) -> None:
    """A database at revision 0003 with what that version could write: duplicate seqs, and
    conversations owned by a key name that two keys share."""
    engine = make_engine(url)
    command.upgrade(alembic_config(engine), "0003")
    t0 = datetime(2026, 11, 1, 12, 0, 0)
    with engine.begin() as c:
        for kid, name, at in [
            ("k-new", "acme", t0 + timedelta(days=2)),
            ("k-old", "acme", t0),
            ("k-agent", "alice", t0),
        ]:
            role = "agent" if name == "alice" else "customer"
            c.execute(
                text(
                    "INSERT INTO api_keys (id, name, role, key_hash, prefix, created_at) "
                    "VALUES (:id, :name, :role, :hash, 'tth_x', :at)"
                ),
                {"id": kid, "name": name, "role": role, "hash": f"h-{kid}", "at": at},
            )
        for cid, owner in [("c-acme", "acme"), ("c-gone", "deleted-client"), ("c-staff", None)]:
            c.execute(
                text("INSERT INTO conversations (id, owner, created_at) VALUES (:id, :o, :at)"),
                {"id": cid, "o": owner, "at": t0},
            )
        rows = [  # (id, seq, minutes): two pairs of duplicates, written out of order
            ("m-a", 1, 0),
            ("m-b", 2, 2),
            ("m-c", 2, 1),
            ("m-d", 3, 4),
            ("m-e", 3, 3),
        ]
        for mid, seq, minutes in rows:
            c.execute(
                text(
                    "INSERT INTO messages (id, conversation_id, seq, role, text, created_at, "
                    "meta) VALUES (:id, 'c-acme', :seq, 'customer', :text, :at, '{}')"
                ),
                {"id": mid, "seq": seq, "text": mid, "at": t0 + timedelta(minutes=minutes)},
            )
        c.execute(
            text(
                "INSERT INTO messages (id, conversation_id, seq, role, text, created_at, meta) "
                "VALUES ('m-z', 'c-gone', 7, 'customer', 'z', :at, '{}')"
            ),
            {"at": t0},
        )
    engine.dispose()


@pytest.fixture
def old_url(request: pytest.FixtureRequest, tmp_path: Path, any_database: Database) -> str:
    """An empty database of the parametrised backend for ``old_database``."""
    url = any_database.engine.url.render_as_string(hide_password=False)
    if any_database.backend == "sqlite":
        any_database.close()
        return f"sqlite:///{tmp_path}/old.db"
    with any_database.engine.begin() as c:  # PostgreSQL: start over on the same server
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    any_database.close()
    return url


def test_migration_0004_renumbers_duplicates_and_owns_conversations_by_key_id(
    old_url: str,
) -> None:
    old_database(old_url)
    database = Database.connect(old_url)
    try:
        assert database.revision() == HEAD
        messages = database.conversations.get("c-acme").messages
        assert [m.text for m in messages] == ["m-a", "m-c", "m-b", "m-e", "m-d"]
        assert seqs(database, "c-acme") == [1, 2, 3, 4, 5]
        assert seqs(database, "c-gone") == [7]  # no duplicates there: left as it was
        assert database.conversations.get("c-acme").owner_key_id == "k-old"  # the oldest key
        assert database.conversations.get("c-gone").owner_key_id is None  # staff only
        assert database.conversations.get("c-staff").owner_key_id is None
        indexes = inspect(database.engine).get_indexes("messages")
        unique = [i for i in indexes if i["name"] == "ux_messages_conversation_seq"]
        assert unique and unique[0]["unique"]
        assert "console_sessions" in inspect(database.engine).get_table_names()
    finally:
        database.close()


def test_migration_0004_goes_down_and_up_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    database = Database.connect(url)
    config = alembic_config(database.engine)
    command.downgrade(config, "0003")
    assert "console_sessions" not in inspect(database.engine).get_table_names()
    command.upgrade(config, "head")
    assert database.revision() == HEAD
    database.close()


# -- console sessions -------------------------------------------------------------------------


def test_a_session_lives_until_it_expires_is_revoked_or_its_key_is(
    any_database: Database,
) -> None:
    sessions = any_database.console_sessions
    key = any_database.keys.create("alice", Role.AGENT)
    opened = sessions.open(key.key.id, lifetime=timedelta(hours=8))
    found = sessions.authenticate(opened.token)
    assert found is not None and found.key.name == "alice"
    assert any_database.keys.authenticate(opened.token) is None  # no API key
    assert sessions.authenticate(opened.token + "x") is None
    assert sessions.authenticate(key.secret) is None  # and a key is no session
    assert sessions.authenticate(opened.token, now=found.expires_at) is None
    assert sessions.revoke(opened.token)
    assert sessions.authenticate(opened.token) is None
    assert not sessions.revoke(opened.token)
    second = sessions.open(key.key.id, lifetime=timedelta(hours=8))
    any_database.keys.revoke("alice")
    assert sessions.authenticate(second.token) is None
    with any_database.session() as session:
        revoked = session.query(ConsoleSessionRow).filter(ConsoleSessionRow.revoked_at.is_(None))
        assert revoked.count() == 0
    with pytest.raises(ValueError, match="unknown or revoked"):
        sessions.open(key.key.id, lifetime=timedelta(hours=1))


def test_only_the_hash_of_a_session_token_is_stored(database: Database) -> None:
    key = database.keys.create("bob", Role.AGENT)
    opened = database.console_sessions.open(key.key.id, lifetime=timedelta(hours=1))
    with Session(database.engine) as session:
        stored = [r.token_hash for r in session.query(ConsoleSessionRow)]
    assert opened.token not in str(stored)
    assert len(stored) == 1 and len(stored[0]) == 64
