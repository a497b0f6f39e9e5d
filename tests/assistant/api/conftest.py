"""The API on fakes: a scripted model, the in-memory knowledge base, a SQLite file, and one key
per role (customers ``cust-a`` and ``cust-b``, agents ``alice`` and ``bob``, admin ``root``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.chat import ChatService
from assistant.desk import AgentDesk
from assistant.escalations.priority import load_priority_rules
from assistant.pipeline.assistant import Assistant
from assistant.settings import Settings
from assistant.storage import Database
from assistant.storage.keys import Role
from assistant.wiring import Services
from core.embeddings import HashingEmbedder
from core.llm.fake import FakeChatModel
from knowledge_base.store import InMemoryStore

Build = Callable[..., Assistant]
Headers = dict[str, str]

PRINCIPALS = {
    "cust-a": Role.CUSTOMER,
    "cust-b": Role.CUSTOMER,
    "alice": Role.AGENT,
    "bob": Role.AGENT,
    "root": Role.ADMIN,
}


@pytest.fixture
def model() -> FakeChatModel:
    return FakeChatModel()


def fake_services(
    database: Database,
    *,
    model: FakeChatModel,
    make_assistant: Build,
    embedder: HashingEmbedder,
    kb_store: InMemoryStore,
) -> Services:
    """Everything on fakes except the database, which is real (SQLite or PostgreSQL)."""
    assistant = make_assistant(model)
    desk = AgentDesk(database, load_priority_rules(Settings().priority_rules_path))
    return Services(
        model=model,
        embedder=embedder,
        vector_store=kb_store,
        database=database,
        assistant=assistant,
        chat=ChatService(database=database, desk=desk, assistant=assistant),
        desk=desk,
    )


@pytest.fixture
def services(
    make_assistant: Build,
    model: FakeChatModel,
    embedder: HashingEmbedder,
    kb_store: InMemoryStore,
    database: Database,
) -> Services:
    return fake_services(
        database, model=model, make_assistant=make_assistant, embedder=embedder, kb_store=kb_store
    )


def grant(database: Database) -> dict[str, Headers]:
    return {
        name: {"Authorization": f"Bearer {database.keys.create(name, role).secret}"}
        for name, role in PRINCIPALS.items()
    }


@pytest.fixture
def keys(database: Database) -> dict[str, Headers]:
    """Authorization headers by principal name."""
    return grant(database)


@pytest.fixture
def app_settings() -> Settings:
    return Settings(max_message_chars=200, max_reply_chars=300, max_note_chars=100)


@pytest.fixture
def client(
    services: Services, keys: dict[str, Headers], app_settings: Settings
) -> Iterator[TestClient]:
    """Speaks as customer ``cust-a`` unless a request passes other headers."""
    app = create_app(services=services, settings=app_settings)
    with TestClient(app, headers=keys["cust-a"]) as test_client:
        yield test_client
