from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from assistant.storage import Database
from assistant.storage.database import MIGRATIONS
from assistant.storage.tables import Base
from core.errors import ConfigurationError


def test_migrations_build_exactly_the_schema_the_code_uses(any_database: Database) -> None:
    with any_database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    heads = sorted(p.name.split("_")[0] for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    assert any_database.revision() == heads[-1]


def test_connecting_again_migrates_nothing_and_keeps_the_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    first = Database.connect(url)
    convo = first.conversations.create()
    first.close()
    again = Database.connect(url)
    assert again.conversations.get(convo.id).id == convo.id
    again.close()


def test_sqlite_runs_in_wal_mode(database: Database) -> None:
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_a_database_made_without_migrations_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    Base.metadata.create_all(engine)
    engine.dispose()
    with pytest.raises(ConfigurationError, match="before migrations"):
        Database.connect(f"sqlite:///{tmp_path}/old.db")


def test_every_table_is_created(database: Database) -> None:
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
