"""Migration 0005 (customer feedback, draft use, the reply of an outcome) on a database of 0004,
on SQLite and (integration set) PostgreSQL, and back down."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from assistant.storage import Database
from assistant.storage.database import MIGRATIONS, alembic_config
from assistant.storage.engine import make_engine

# Migrating to the newest revision, whichever it is.
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def database_of_0004(url: str) -> None:
    """A conversation with a reply, a resolved case and an experiment outcome, as 0004 wrote."""
    engine = make_engine(url)
    command.upgrade(alembic_config(engine), "0004")
    at = datetime(2026, 12, 1, 12, 0, 0)
    with engine.begin() as c:
        c.execute(
            text("INSERT INTO conversations (id, created_at) VALUES ('c-1', :at)"), {"at": at}
        )
        for mid, seq, role in [("m-1", 1, "customer"), ("m-2", 2, "assistant")]:
            c.execute(
                text(
                    "INSERT INTO messages (id, conversation_id, seq, role, text, created_at, "
                    "meta) VALUES (:id, 'c-1', :seq, :role, 'x', :at, '{}')"
                ),
                {"id": mid, "seq": seq, "role": role, "at": at},
            )
        c.execute(
            text(
                "INSERT INTO escalations (id, conversation_id, message_id, status, priority, "
                "priority_rank, due_at, reasons, tier, issue_type, core_issue, transcript, "
                "verdict, evidence, resolution, created_at, updated_at) VALUES ('e-1', 'c-1', "
                "'m-1', 'resolved', 'P3', 3, :at, '[]', 1, 'refunds', 'x', '[]', "
                "'{\"outcome\": \"escalate\"}', '{}', '{}', :at, :at)"
            ),
            {"at": at},
        )
        c.execute(
            text(
                "INSERT INTO experiment_outcomes (experiment_id, unit_id, variant, "
                "conversation_id, message_id, escalated, latency_ms, at) VALUES ('exp', 'u', "
                "'control', 'c-1', 'm-1', false, 1.0, :at)"
            ),
            {"at": at},
        )
    engine.dispose()


@pytest.fixture
def old_url(tmp_path: Path, any_database: Database) -> str:
    """An empty database of the parametrised backend for ``database_of_0004``."""
    url = any_database.engine.url.render_as_string(hide_password=False)
    if any_database.backend == "sqlite":
        any_database.close()
        return f"sqlite:///{tmp_path}/old.db"
    with any_database.engine.begin() as c:  # PostgreSQL: start over on the same server
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    any_database.close()
    return url


def test_migration_0005_keeps_the_data_and_adds_feedback_and_draft_use(old_url: str) -> None:
    database_of_0004(old_url)
    database = Database.connect(old_url)
    try:
        assert database.revision() == HEAD
        schema = inspect(database.engine)
        assert "message_feedback" in schema.get_table_names()
        assert "draft_use" in {c["name"] for c in schema.get_columns("escalations")}
        # rows written before the revision: no feedback, no draft comparison, no reply id
        assert [m.feedback for m in database.conversations.get("c-1").messages] == [None, None]
        assert database.escalations.get("e-1").resolution.draft_use is None
        counts = database.escalations.draft_counts()
        assert (counts.with_draft, counts.no_draft) == (0, 1)
        [outcome] = database.experiments.outcomes("exp")
        assert (outcome.reply_message_id, outcome.rating) == (None, None)
    finally:
        database.close()


def test_migration_0005_goes_down_and_up_again(any_database: Database) -> None:
    config = alembic_config(any_database.engine)
    command.downgrade(config, "0004")
    schema = inspect(any_database.engine)
    assert "message_feedback" not in schema.get_table_names()
    assert "draft_use" not in {c["name"] for c in schema.get_columns("escalations")}
    command.upgrade(config, "head")
    assert any_database.revision() == HEAD
    assert "message_feedback" in inspect(any_database.engine).get_table_names()
