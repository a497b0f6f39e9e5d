from collections.abc import Iterator

import pytest

from assistant.storage import Database


@pytest.fixture
def database() -> Iterator[Database]:
    """In memory: the simulated days write thousands of messages, one transaction each."""
    db = Database.connect("sqlite://")
    yield db
    db.close()
