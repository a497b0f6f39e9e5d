from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.wiring import Services
from core.llm.fake import FakeChatModel
from tests.conftest import answer_json


def break_database(services: Services, tmp_path: Path) -> None:
    """Replace the SQLite file by a directory: every later connection fails."""
    services.database.close()
    for path in tmp_path.glob("tether.db*"):
        path.unlink()
    (tmp_path / "tether.db").mkdir()


def new_conversation(client: TestClient) -> str:
    response = client.post("/v1/conversations", json={"customer_ref": "cust-7"})
    assert response.status_code == 201
    return str(response.json()["id"])


def test_a_message_gets_a_cited_answer_and_the_history_shows_it(
    client: TestClient, model: FakeChatModel
) -> None:
    model.enqueue(answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"]))
    cid = new_conversation(client)
    response = client.post(
        f"/v1/conversations/{cid}/messages", json={"text": "How much does Instant Pay cost?"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["answered"] is True
    assert body["reply"]["text"] == "Each Instant Pay cash-out costs $0.85."
    assert body["citations"] == [{"article_id": "pay-002", "title": "Instant Pay for couriers"}]
    assert body["issue_type"] == "payments_and_pay"
    assert body["verdict"]["outcome"] == "pass"
    assert body["escalation_id"] is None
    assert body["latency_ms"]["total"] > 0
    history = client.get(f"/v1/conversations/{cid}").json()
    assert [m["role"] for m in history["messages"]] == ["customer", "assistant"]
    assert "reasoning" not in str(history)  # the chain of thought never reaches the customer


def test_an_escalated_message_returns_the_handoff_and_an_escalation_id(
    client: TestClient, model: FakeChatModel, services: Services
) -> None:
    model.enqueue("garbage", "garbage")
    cid = new_conversation(client)
    body = client.post(
        f"/v1/conversations/{cid}/messages", json={"text": "How much does Instant Pay cost?"}
    ).json()
    assert body["answered"] is False
    assert body["verdict"]["reasons"] == ["malformed_output"]
    assert body["escalation_id"]
    record = services.database.escalations.get(body["escalation_id"])
    assert record.conversation_id == cid


@pytest.mark.parametrize(
    ("payload", "status", "needle"),
    [
        ({"text": "   "}, 422, "empty"),
        ({"text": "x" * 201}, 413, "limit is 200"),
        ({"message": "hi"}, 422, "body.text"),
        ({"text": 5}, 422, "body.text"),
    ],
)
def test_bad_messages_get_a_clear_4xx(
    client: TestClient, payload: dict[str, object], status: int, needle: str
) -> None:
    cid = new_conversation(client)
    response = client.post(f"/v1/conversations/{cid}/messages", json=payload)
    assert response.status_code == status
    assert needle in response.json()["detail"]


def test_malformed_json_is_a_422_with_a_message(client: TestClient) -> None:
    cid = new_conversation(client)
    response = client.post(
        f"/v1/conversations/{cid}/messages",
        content=b'{"text": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert "malformed request" in response.json()["detail"]


def test_unknown_conversations_are_404(client: TestClient) -> None:
    assert client.get("/v1/conversations/nope").status_code == 404
    response = client.post("/v1/conversations/nope/messages", json={"text": "hi"})
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


def test_health_and_readiness(client: TestClient, services: Services, tmp_path: Path) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"model": True, "vector_store": True, "database": True}
    break_database(services, tmp_path)
    services.probes.forget()  # results are kept for a few seconds; probe again now
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["checks"]["database"] is False


def test_a_down_database_is_a_503_not_a_500(
    client: TestClient, services: Services, tmp_path: Path
) -> None:
    break_database(services, tmp_path)
    response = client.post("/v1/conversations", json={})
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert (
        "/v1/conversations/{conversation_id}/messages"
        in client.get("/openapi.json").json()["paths"]
    )
