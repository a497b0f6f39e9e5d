"""Pytest fixtures for real services, registered from tests/conftest.py through `pytest_plugins`.

`postgres_server` starts one throwaway PostgreSQL per test session, only when a test asks for it;
`postgres_url` gives each test its own empty database on that server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = PostgresServer.start(tmp_path_factory.mktemp("postgres"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """SQLAlchemy URL of a fresh database, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = postgres_server.create_database(name)
    yield url
    # A test may leave the server stopped (for example after stop_server() and a failure):
    # bring it back for the tests that follow, then drop the database even if sessions remain.
    postgres_server.ensure_running()
    postgres_server.drop_database(name)
