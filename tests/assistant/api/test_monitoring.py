import gc
import json
import logging
import time
import weakref

import pytest
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.monitoring.logs import JsonFormatter, trace_id
from assistant.settings import Settings
from assistant.wiring import Services
from core.llm.fake import FakeChatModel
from tests.assistant.api.conftest import Headers
from tests.conftest import answer_json


def metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{wanted}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(prefix + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{prefix} not in metrics")


def test_an_app_that_is_dropped_is_freed_with_its_services(
    services: Services, app_settings: Settings
) -> None:
    """FastAPI keeps the endpoints it has seen in a module-level cache: no endpoint may close
    over its app, or every app a process builds stays in memory (the test suite built hundreds,
    and its garbage collections grew slower with each)."""
    app = create_app(services=services, settings=app_settings)
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 200
    freed = weakref.ref(app)
    del app, client
    # The client's event-loop thread lets go of the app a moment after the block ends (one try
    # in ten needed a second collection): a leaked app is still there after two seconds.
    deadline = time.monotonic() + 2.0
    while gc.collect() >= 0 and freed() is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert freed() is None


def test_metrics_count_messages_stages_escalations_and_the_queue(
    client: TestClient, model: FakeChatModel, keys: dict[str, Headers]
) -> None:
    model.enqueue(answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"]))
    model.enqueue("garbage", "garbage")
    cid = client.post("/v1/conversations", json={}).json()["id"]
    client.post(
        f"/v1/conversations/{cid}/messages", json={"text": "How much does Instant Pay cost?"}
    )
    client.post(f"/v1/conversations/{cid}/messages", json={"text": "And the fee for cash-out?"})
    text = client.get("/metrics").text
    assert metric(text, "tether_messages_total", outcome="answered") == 1
    assert metric(text, "tether_messages_total", outcome="escalated") == 1
    assert metric(text, "tether_escalations_total", reason="malformed_output") == 1
    assert metric(text, "tether_stage_seconds_count", stage="generate") == 2
    assert metric(text, "tether_queue_waiting") == 1
    assert metric(text, "tether_queue_cases", status="open") == 1
    assert (
        metric(
            text,
            "tether_http_requests_total",
            method="POST",
            route="/v1/conversations/{conversation_id}/messages",
            status="200",
        )
        == 2
    )


def test_every_response_carries_a_trace_id_that_the_logs_and_the_record_share(
    client: TestClient,
    model: FakeChatModel,
    services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    model.enqueue(answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"]))
    cid = client.post("/v1/conversations", json={}).json()["id"]
    with caplog.at_level(logging.INFO, logger="assistant.chat"):
        response = client.post(
            f"/v1/conversations/{cid}/messages",
            json={"text": "How much does Instant Pay cost?"},
            headers={"X-Request-ID": "trace-42"},
        )
    assert response.headers["x-trace-id"] == "trace-42"
    handled = [r for r in caplog.records if r.getMessage() == "message handled"]
    assert handled
    assert handled[0].__dict__["conversation_id"] == cid
    assert handled[0].__dict__["answered"] is True
    # the log line (as JSON) and the stored reply carry the request's trace id
    token = trace_id.set("trace-42")
    try:
        assert json.loads(JsonFormatter().format(handled[0]))["trace_id"] == "trace-42"
    finally:
        trace_id.reset(token)
    reply = services.database.conversations.get(cid).messages[-1]
    assert reply.trace is not None and reply.trace.trace_id == "trace-42"
    fresh = client.get("/healthz")
    assert len(fresh.headers["x-trace-id"]) == 16
