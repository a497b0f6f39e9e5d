"""The database seam: one engine, migrations to head on connect, and the stores that use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from assistant.storage.console_sessions import ConsoleSessionStore
from assistant.storage.conversations import ConversationStore
from assistant.storage.engine import Sessions, make_engine
from assistant.storage.escalations import EscalationStore
from assistant.storage.experiments import ExperimentStore
from assistant.storage.feedback import FeedbackStore
from assistant.storage.keys import KeyStore
from assistant.storage.locks import JobLockStore
from assistant.storage.quality import QualityStore
from core.errors import ConfigurationError, DatabaseError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


class Database:
    """The engine plus guarded sessions; the stores below share it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = Sessions(engine)
        self.conversations = ConversationStore(self.sessions)
        self.escalations = EscalationStore(self.sessions)
        self.keys = KeyStore(self.sessions)
        self.console_sessions = ConsoleSessionStore(self.sessions)
        self.experiments = ExperimentStore(self.sessions)
        self.quality = QualityStore(self.sessions)
        self.feedback = FeedbackStore(self.sessions)
        self.locks = JobLockStore(self.sessions)

    @classmethod
    def connect(cls, url: str, *, migrate: bool = True) -> Database:
        database = cls(make_engine(url))
        if migrate:
            database.migrate()
        return database

    @property
    def backend(self) -> str:
        return self.sessions.backend

    def migrate(self) -> None:
        """Bring the schema to the newest migration (a no-op when it is already there)."""
        with self.sessions.guard():
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
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with self.sessions.session() as session:
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
