from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.llm.fake import FakeChatModel
from tests.assistant.api.conftest import Headers
from tests.conftest import answer_json


def escalated_case(client: TestClient, model: FakeChatModel, text: str) -> tuple[str, str]:
    """A customer message whose answer fails the guardrail; returns (conversation, case)."""
    model.enqueue(
        answer_json("Loyal customers always get their refund approved.", ["ref-001"]),
        "0.12",  # the grounding judge: 12% likely supported
    )
    cid = client.post("/v1/conversations", json={}).json()["id"]
    body = client.post(f"/v1/conversations/{cid}/messages", json={"text": text}).json()
    assert body["answered"] is False
    return cid, body["escalation_id"]


def test_an_agent_lists_filters_claims_and_resolves_and_the_customer_sees_the_reply(
    client: TestClient, model: FakeChatModel, keys: dict[str, Headers]
) -> None:
    cid, case = escalated_case(client, model, "How long do I have to request a refund?")
    alice = keys["alice"]
    queue = client.get("/v1/escalations", params={"status": "open"}, headers=alice).json()
    assert [c["id"] for c in queue["items"]] == [case]
    assert queue["items"][0]["reasons"] == ["ungrounded"]
    assert (
        client.get("/v1/escalations", params={"reason": "llm_error"}, headers=alice).json()["total"]
        == 0
    )
    counts = client.get("/v1/escalations/counts", headers=alice).json()
    assert counts["by_status"] == {"open": 1}
    assert counts["by_reason"] == {"ungrounded": 1}

    detail = client.get(f"/v1/escalations/{case}", headers=alice).json()
    assert detail["verdict"]["flagged"]
    assert detail["verdict"]["grounding_probability"] == 0.12
    assert detail["verdict"]["detail"] == "grounding judge: 0.12 likely supported, below 0.50"
    assert detail["verdict"]["tier"] == 2
    assert detail["evidence"]["withheld_answer"].startswith("Loyal customers always")
    assert detail["evidence"]["passages"][0]["article_id"] == "ref-001"

    assert client.post(f"/v1/escalations/{case}/claim", headers=alice).status_code == 200
    note = client.post(
        f"/v1/escalations/{case}/notes", json={"text": "7 days, check"}, headers=alice
    )
    assert note.status_code == 200
    resolved = client.post(
        f"/v1/escalations/{case}/resolve",
        json={"reply": "You have 7 days from delivery to request a refund.", "kb_gap": False},
        headers=alice,
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["escalation"]["status"] == "resolved"

    seen: dict[str, Any] = client.get(f"/v1/conversations/{cid}").json()  # the customer's view
    last = seen["messages"][-1]
    assert (last["role"], last["from_person"]) == ("agent", True)
    assert last["text"] == "You have 7 days from delivery to request a refund."
    assert "7 days, check" not in str(seen)  # internal notes never reach the customer
    assert all(not m["from_person"] for m in seen["messages"][:-1])


def test_double_claims_and_foreign_cases_are_clear_4xx(
    client: TestClient, model: FakeChatModel, keys: dict[str, Headers]
) -> None:
    _, case = escalated_case(client, model, "How long do I have to request a refund?")
    alice, bob = keys["alice"], keys["bob"]
    unclaimed = client.post(f"/v1/escalations/{case}/resolve", json={"reply": "x"}, headers=alice)
    assert unclaimed.status_code == 409
    assert "claim it before you resolve" in unclaimed.json()["detail"]
    assert client.post(f"/v1/escalations/{case}/claim", headers=alice).status_code == 200
    again = client.post(f"/v1/escalations/{case}/claim", headers=bob)
    assert again.status_code == 409
    assert "already claimed by alice" in again.json()["detail"]
    foreign = client.post(f"/v1/escalations/{case}/resolve", json={"reply": "x"}, headers=bob)
    assert foreign.status_code == 403
    assert "claimed by alice" in foreign.json()["detail"]
    assert client.post(f"/v1/escalations/{case}/return", headers=bob).status_code == 403
    back = client.post(f"/v1/escalations/{case}/return", json={"note": "busy"}, headers=alice)
    assert back.json()["status"] == "returned"
    assert client.post(f"/v1/escalations/{case}/claim", headers=bob).status_code == 200


@pytest.mark.parametrize(
    ("path", "payload", "status", "needle"),
    [
        ("resolve", {"reply": "   "}, 422, "reply is empty"),
        ("resolve", {"reply": "x" * 301}, 413, "limit is 300"),
        ("resolve", {"text": "hi"}, 422, "body.reply"),
        ("resolve", {"reply": "ok", "regression": {"expect": "maybe"}}, 422, "expect"),
        ("notes", {"text": ""}, 422, "note is empty"),
        ("notes", {"text": "x" * 101}, 413, "limit is 100"),
        ("return", {"note": "x" * 101}, 413, "limit is 100"),
    ],
)
def test_bad_agent_input_is_a_clear_4xx(
    client: TestClient,
    model: FakeChatModel,
    keys: dict[str, Headers],
    path: str,
    payload: dict[str, object],
    status: int,
    needle: str,
) -> None:
    _, case = escalated_case(client, model, "How long do I have to request a refund?")
    client.post(f"/v1/escalations/{case}/claim", headers=keys["alice"])
    response = client.post(f"/v1/escalations/{case}/{path}", json=payload, headers=keys["alice"])
    assert response.status_code == status, response.text
    assert needle in response.json()["detail"]
    # nothing happened to the case
    events = client.get(f"/v1/escalations/{case}", headers=keys["alice"]).json()["events"]
    assert [e["action"] for e in events] == ["created", "claimed"]


def test_unknown_ids_and_bad_queries_are_4xx(client: TestClient, keys: dict[str, Headers]) -> None:
    alice = keys["alice"]
    for method, path in [
        ("get", "/v1/escalations/nope"),
        ("post", "/v1/escalations/nope/claim"),
        ("post", "/v1/escalations/nope/return"),
    ]:
        response = client.request(method, path, headers=alice)
        assert response.status_code == 404
        assert "not found" in response.json()["detail"]
    assert (
        client.post("/v1/escalations/nope/notes", json={"text": "x"}, headers=alice).status_code
        == 404
    )
    for params in ({"status": "lost"}, {"sort": "random"}, {"limit": 0}, {"min_age_minutes": -1}):
        assert client.get("/v1/escalations", params=params, headers=alice).status_code == 422


def test_closing_the_loop_lists_kb_gaps_and_regression_cases_for_admins(
    client: TestClient, model: FakeChatModel, keys: dict[str, Headers]
) -> None:
    _, case = escalated_case(client, model, "How long do I have to request a refund?")
    client.post(f"/v1/escalations/{case}/claim", headers=keys["bob"])
    resolved = client.post(
        f"/v1/escalations/{case}/resolve",
        json={
            "reply": "Within 7 days of delivery.",
            "kb_gap": True,
            "regression": {"expect": "answer", "gold_article_ids": ["ref-001"]},
        },
        headers=keys["bob"],
    ).json()
    assert resolved["escalation"]["resolution"]["kb_gap"] is True
    gaps = client.get("/v1/admin/kb-gaps", headers=keys["root"]).json()
    assert [(g["answer"], g["created_by"]) for g in gaps] == [("Within 7 days of delivery.", "bob")]
    cases = client.get("/v1/admin/regression-cases", headers=keys["root"]).json()
    assert cases[0]["gold_article_ids"] == ["ref-001"]
    assert cases[0]["reference_answer"] == "Within 7 days of delivery."
    assert cases[0]["issue_type"] == "refunds"
