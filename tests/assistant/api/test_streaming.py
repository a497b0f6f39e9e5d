"""Streamed replies (Server-Sent Events) on fakes: no sentence reaches the customer before it has
passed the check, a later failure hands over, and a client that leaves loses nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence

import pytest
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.pipeline.assistant import Assistant
from assistant.settings import Settings
from assistant.storage import Database
from core.embeddings import HashingEmbedder
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from knowledge_base.store import InMemoryStore
from tests.assistant.api.conftest import Headers, fake_services, grant

TRUE = "Each Instant Pay cash-out costs $0.85 [pay-002]."
FALSE = "You can cash out up to 9 times per day [pay-002]."
STREAM = {"accept": "text/event-stream"}


@pytest.fixture
def streaming(
    database: Database,
    make_assistant: Callable[..., Assistant],
    embedder: HashingEmbedder,
    kb_store: InMemoryStore,
) -> Callable[[FakeChatModel], tuple[TestClient, Headers]]:
    clients: list[TestClient] = []

    def start(model: FakeChatModel, **settings: object) -> tuple[TestClient, Headers]:
        services = fake_services(
            database,
            model=model,
            make_assistant=lambda m: make_assistant(m, answer_prompt="answer@5"),
            embedder=embedder,
            kb_store=kb_store,
        )
        keys = grant(database)
        app = create_app(services=services, settings=Settings(**settings))  # type: ignore[arg-type]
        client = TestClient(app, headers=keys["cust-a"]).__enter__()
        clients.append(client)
        return client, keys["cust-a"]

    yield start  # type: ignore[misc]
    for client in clients:
        client.__exit__(None, None, None)


def events(lines: Iterator[str]) -> list[tuple[str, dict[str, object]]]:
    """(event, data) pairs of an SSE stream; comments are kept as ("comment", {})."""
    out: list[tuple[str, dict[str, object]]] = []
    kind = ""
    for line in lines:
        if line.startswith(":"):
            out.append(("comment", {}))
        elif line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            out.append((kind, json.loads(line.split(":", 1)[1])))
    return out


def post(client: TestClient, cid: str, text: str) -> list[tuple[str, dict[str, object]]]:
    with client.stream(
        "POST", f"/v1/conversations/{cid}/messages", json={"text": text}, headers=STREAM
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return events(response.iter_lines())


def test_a_true_sentence_then_a_false_one_the_customer_sees_the_first_and_a_person_follows(
    streaming: Callable[..., tuple[TestClient, Headers]], database: Database
) -> None:
    client, _ = streaming(FakeChatModel().enqueue(f"{TRUE} {FALSE}"))
    cid = client.post("/v1/conversations", json={}).json()["id"]
    stream = post(client, cid, "How much does an Instant Pay cash-out cost?")
    kinds = [kind for kind, _ in stream]
    assert kinds[0] == "progress" and kinds[-2:] == ["handoff", "done"]
    assert kinds.index("sentence") < kinds.index("handoff")
    sentences = [data["text"] for kind, data in stream if kind == "sentence"]
    assert sentences == ["Each Instant Pay cash-out costs $0.85."]
    assert not any("9 times" in json.dumps(data) for kind, data in stream if kind != "done")
    handoff = dict(stream)["handoff"]
    done = dict(stream)["done"]
    assert handoff["escalation_id"] == done["escalation_id"] is not None
    assert done["answered"] is False
    case = database.escalations.get(str(done["escalation_id"]))
    assert "9 times" in (case.evidence.withheld_answer or "")
    assert case.evidence.shown == ["Each Instant Pay cash-out costs $0.85."]
    # what the customer saw is what the conversation keeps
    last = client.get(f"/v1/conversations/{cid}").json()["messages"][-1]
    assert last["text"].startswith("Each Instant Pay cash-out costs $0.85.\n\n")


def test_a_passing_answer_streams_every_sentence_then_done(
    streaming: Callable[..., tuple[TestClient, Headers]],
) -> None:
    also = "You can cash out up to 5 times per day [pay-002]."
    client, _ = streaming(FakeChatModel().enqueue(f"{TRUE} {also}"))
    cid = client.post("/v1/conversations", json={}).json()["id"]
    stream = post(client, cid, "How much does an Instant Pay cash-out cost?")
    stages = [data["stage"] for kind, data in stream if kind == "progress"]
    assert stages[:3] == ["screen", "condense", "classify"] and "guardrail" in stages
    sentences = [data for kind, data in stream if kind == "sentence"]
    assert [s["text"] for s in sentences] == [
        "Each Instant Pay cash-out costs $0.85.",
        "You can cash out up to 5 times per day.",
    ]
    assert sentences[0]["citations"] == [
        {"article_id": "pay-002", "title": "Instant Pay for couriers"}
    ]
    assert "handoff" not in dict(stream)
    done = dict(stream)["done"]
    assert done["answered"] is True and done["reply"]["text"].startswith("Each Instant Pay")


def test_the_stream_keeps_alive_while_the_model_is_slow(
    streaming: Callable[..., tuple[TestClient, Headers]],
) -> None:
    def slow(_: Sequence[ChatMessage]) -> str:
        time.sleep(0.5)
        return TRUE

    client, _ = streaming(FakeChatModel(slow), stream_ping_s=0.1)
    cid = client.post("/v1/conversations", json={}).json()["id"]
    stream = post(client, cid, "How much does an Instant Pay cash-out cost?")
    assert ("comment", {}) in stream
    assert stream[-1][0] == "done"


def test_a_client_that_leaves_does_not_stop_the_reply(
    streaming: Callable[..., tuple[TestClient, Headers]],
) -> None:
    def slow(_: Sequence[ChatMessage]) -> str:
        time.sleep(0.3)
        return TRUE

    client, _ = streaming(FakeChatModel(slow))
    cid = client.post("/v1/conversations", json={}).json()["id"]
    with client.stream(
        "POST",
        f"/v1/conversations/{cid}/messages",
        json={"text": "How much does an Instant Pay cash-out cost?"},
        headers=STREAM,
    ) as response:
        first = next(response.iter_lines())
        assert first.startswith("event: progress")
    # gone before the answer: the job goes on, and the reply is stored
    deadline = time.monotonic() + 10
    messages: list[dict[str, object]] = []
    while time.monotonic() < deadline and len(messages) < 2:
        messages = client.get(f"/v1/conversations/{cid}").json()["messages"]
        time.sleep(0.05)
    assert [m["role"] for m in messages] == ["customer", "assistant"]
    assert messages[1]["text"] == "Each Instant Pay cash-out costs $0.85."


def test_a_bad_request_is_refused_before_any_stream(
    streaming: Callable[..., tuple[TestClient, Headers]],
) -> None:
    client, _ = streaming(FakeChatModel())
    cid = client.post("/v1/conversations", json={}).json()["id"]
    empty = client.post(f"/v1/conversations/{cid}/messages", json={"text": " "}, headers=STREAM)
    assert empty.status_code == 422 and empty.json()["detail"] == "the message is empty"
    unknown = client.post("/v1/conversations/nope/messages", json={"text": "hi"}, headers=STREAM)
    assert unknown.status_code == 404
