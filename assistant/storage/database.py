"""The database seam: one engine, migrations to head on connect, and the stores that use it.

SQLite (a file in WAL mode) by default, PostgreSQL by URL; the same SQL runs on both. Every
SQLAlchemy failure leaves this package as a :class:`DatabaseError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from assistant.errors import ConfigurationError, DatabaseError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    memory = ":memory:" in url or url in ("sqlite://", "sqlite:///")
    if not memory:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False},
        poolclass=StaticPool if memory else None,
    )
    _sqlite_pragmas(engine)
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


class Database:
    """The engine plus guarded sessions; the stores below share it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Imported here: the stores import this module for the Database type.
        from assistant.storage.conversations import ConversationStore
        from assistant.storage.escalations import EscalationStore
        from assistant.storage.experiments import ExperimentStore
        from assistant.storage.keys import KeyStore
        from assistant.storage.quality import QualityStore

        self.conversations = ConversationStore(self)
        self.escalations = EscalationStore(self)
        self.keys = KeyStore(self)
        self.experiments = ExperimentStore(self)
        self.quality = QualityStore(self)

    @classmethod
    def connect(cls, url: str, *, migrate: bool = True) -> Database:
        database = cls(make_engine(url))
        if migrate:
            database.migrate()
        return database

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest migration (a no-op when it is already there)."""
        with self.guard():
            tables = set(inspect(self.engine).get_table_names())
            if "conversations" in tables and "alembic_version" not in tables:
                raise ConfigurationError(
                    f"{self.engine.url.render_as_string(hide_password=True)} holds Tether tables "
                    "made before migrations existed; move that database aside and start again"
                )
            command.upgrade(alembic_config(self.engine), "head")

    def revision(self) -> str | None:
        with self.session() as session:
            row = session.execute(text("SELECT version_num FROM alembic_version")).first()
            return None if row is None else str(row[0])

    @contextmanager
    def guard(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise DatabaseError(f"database failed: {exc.__class__.__name__}: {exc}") from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with self.guard(), self._sessions.begin() as session:
            yield session

    def is_ready(self) -> bool:
        try:
            with self.session() as session:
                session.execute(text("SELECT 1"))
        except DatabaseError:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()
