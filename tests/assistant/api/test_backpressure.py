"""Overload: when every place for a message is taken, a new one is refused with 503 and
Retry-After before anything is stored; health never waits behind the work."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.pipeline.assistant import Assistant
from assistant.settings import Settings
from assistant.storage import Database
from core.embeddings import HashingEmbedder
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from knowledge_base.store import InMemoryStore
from tests.assistant.api.conftest import fake_services, grant


def test_a_full_house_says_503_with_retry_after_and_stores_nothing(
    database: Database,
    make_assistant: Callable[..., Assistant],
    embedder: HashingEmbedder,
    kb_store: InMemoryStore,
) -> None:
    release = threading.Event()

    def held(_: Sequence[ChatMessage]) -> str:
        release.wait(10)
        return "Each Instant Pay cash-out costs $0.85 [pay-002]."

    services = fake_services(
        database,
        model=FakeChatModel(held),
        make_assistant=lambda m: make_assistant(m, answer_prompt="answer@6"),
        embedder=embedder,
        kb_store=kb_store,
    )
    services.workers.capacity = 1
    keys = grant(database)
    with TestClient(
        create_app(services=services, settings=Settings()), headers=keys["cust-a"]
    ) as client:
        first_id = client.post("/v1/conversations", json={}).json()["id"]
        second_id = client.post("/v1/conversations", json={}).json()["id"]
        answered: list[int] = []
        first = threading.Thread(
            target=lambda: answered.append(
                client.post(
                    f"/v1/conversations/{first_id}/messages", json={"text": "Instant Pay fee?"}
                ).status_code
            )
        )
        first.start()
        while services.workers.in_flight == 0:
            time.sleep(0.01)
        refused = client.post(f"/v1/conversations/{second_id}/messages", json={"text": "fee?"})
        assert refused.status_code == 503
        assert int(refused.headers["retry-after"]) >= 1
        assert database.conversations.get(second_id).messages == []  # nothing was taken
        started = time.monotonic()
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert time.monotonic() - started < 2.0  # never behind the message in flight
        release.set()
        first.join()
        assert answered == [200]
