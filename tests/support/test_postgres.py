"""The throwaway PostgreSQL server: durable across a crash-like restart, and can be taken down."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.integration

METADATA = sa.MetaData()
NOTES = sa.Table(
    "notes",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
)


def count_notes(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(NOTES)).scalar_one()
    finally:
        engine.dispose()


def test_rows_survive_an_immediate_restart(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    engine = sa.create_engine(postgres_url)
    try:
        METADATA.create_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.insert(NOTES), [{"body": f"note {i}"} for i in range(100)])
    finally:
        engine.dispose()

    postgres_server.restart("immediate")

    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            bodies = conn.execute(sa.select(NOTES.c.body).order_by(NOTES.c.id)).scalars().all()
    finally:
        engine.dispose()
    assert bodies == [f"note {i}" for i in range(100)]


def test_stopped_server_refuses_connections_until_started(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    engine = sa.create_engine(postgres_url)
    try:
        METADATA.create_all(engine)
    finally:
        engine.dispose()

    postgres_server.stop_server()
    try:
        with pytest.raises(OperationalError):
            count_notes(postgres_url)
    finally:
        postgres_server.start_server()

    assert count_notes(postgres_url) == 0


def test_each_test_gets_a_fresh_database(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    assert postgres_url.startswith(f"postgresql+psycopg://tether@127.0.0.1:{postgres_server.port}/")
    engine = sa.create_engine(postgres_url)
    try:
        assert not sa.inspect(engine).has_table("notes")
    finally:
        engine.dispose()
