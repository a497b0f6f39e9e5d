"""Alembic environment: runs on the engine that :class:`assistant.storage.database.Database`
passes in (``config.attributes["engine"]``); no alembic.ini is needed."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Engine

from assistant.storage.tables import Base

config = context.config
engine: Engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
