"""POST /v1/conversations/{id}/messages/{message_id}/feedback: thumbs up or down on a reply."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.wiring import Services
from core.llm.fake import FakeChatModel
from tests.assistant.api.conftest import Headers
from tests.assistant.api.test_escalations import escalated_case
from tests.conftest import answer_json


def answered(client: TestClient, model: FakeChatModel) -> tuple[str, dict[str, Any]]:
    """A conversation with one answered message; returns its id and the reply's body."""
    model.enqueue(answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"]))
    cid = client.post("/v1/conversations", json={}).json()["id"]
    body = client.post(
        f"/v1/conversations/{cid}/messages", json={"text": "How much does Instant Pay cost?"}
    ).json()
    assert body["answered"] is True
    return cid, body


def rate(
    client: TestClient, cid: str, mid: str, headers: Headers | None = None, **body: object
) -> Any:
    return post(client, cid, mid, body, headers)


def post(
    client: TestClient, cid: str, mid: str, body: dict[str, object], headers: Headers | None = None
) -> Any:
    return client.post(
        f"/v1/conversations/{cid}/messages/{mid}/feedback", json=body, headers=headers
    )


def cases(services: Services) -> list[str]:
    return [c.id for c in services.database.escalations.page().items]


def test_a_thumbs_up_is_stored_with_the_reply_and_shown_with_it(
    client: TestClient, model: FakeChatModel, services: Services
) -> None:
    cid, body = answered(client, model)
    reply_id = body["reply"]["id"]
    response = rate(client, cid, reply_id, rating="up", comment="  Clear, thanks!  ")
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["conversation_id"] == cid
    assert stored["message_id"] == reply_id
    assert (stored["rating"], stored["comment"], stored["escalation_id"]) == (
        "up",
        "Clear, thanks!",
        None,
    )
    messages = client.get(f"/v1/conversations/{cid}").json()["messages"]
    assert messages[0]["feedback"] is None
    assert messages[1]["feedback"]["rating"] == "up"
    assert messages[1]["feedback"]["comment"] == "Clear, thanks!"
    assert cases(services) == []  # a thumbs up opens nothing


def test_a_second_rating_replaces_the_first(client: TestClient, model: FakeChatModel) -> None:
    cid, body = answered(client, model)
    reply_id = body["reply"]["id"]
    first = rate(client, cid, reply_id, rating="up", comment="ok").json()
    second = rate(client, cid, reply_id, rating="up").json()
    assert second["comment"] is None  # replaced, not merged
    assert second["created_at"] == first["created_at"]
    assert second["updated_at"] >= first["updated_at"]
    feedback = client.get(f"/v1/conversations/{cid}").json()["messages"][1]["feedback"]
    assert (feedback["rating"], feedback["comment"]) == ("up", None)


def test_a_thumbs_down_on_an_answer_opens_one_case_with_the_comment(
    client: TestClient, model: FakeChatModel, services: Services, keys: dict[str, Headers]
) -> None:
    cid, body = answered(client, model)
    reply_id = body["reply"]["id"]
    down = rate(client, cid, reply_id, rating="down", comment="That fee is wrong").json()
    case_id = down["escalation_id"]
    assert case_id
    case = client.get(f"/v1/escalations/{case_id}", headers=keys["alice"]).json()
    assert case["conversation_id"] == cid
    assert case["reasons"] == ["customer_feedback"]
    assert case["issue_type"] == "payments_and_pay"
    assert "That fee is wrong" in case["verdict"]["detail"]
    assert case["evidence"]["shown"] == ["Each Instant Pay cash-out costs $0.85."]
    assert case["evidence"]["passages"]
    feedback = [e for e in case["events"] if e["action"] == "customer_feedback"]
    assert [(e["actor"], e["detail"]["comment"]) for e in feedback] == [
        ("customer", "That fee is wrong")
    ]
    # rating it again (down, then up) joins the same case: never a second one
    again = rate(client, cid, reply_id, rating="down", comment="Still wrong").json()
    assert again["escalation_id"] == case_id
    up = rate(client, cid, reply_id, rating="up").json()
    assert up["escalation_id"] == case_id
    assert cases(services) == [case_id]
    trail = services.database.escalations.get(case_id).events
    assert [e.detail["rating"] for e in trail if e.action == "customer_feedback"] == [
        "down",
        "down",
        "up",
    ]


def test_a_thumbs_down_on_a_handed_over_reply_joins_its_case(
    client: TestClient, model: FakeChatModel, services: Services
) -> None:
    cid, case_id = escalated_case(client, model, "How long do I have to request a refund?")
    handoff = client.get(f"/v1/conversations/{cid}").json()["messages"][-1]
    assert handoff["role"] == "assistant"
    stored = rate(client, cid, handoff["id"], rating="down", comment="I want a person now").json()
    assert stored["escalation_id"] == case_id
    assert cases(services) == [case_id]  # no duplicate
    trail = services.database.escalations.get(case_id).events
    assert [e.detail["comment"] for e in trail if e.action == "customer_feedback"] == [
        "I want a person now"
    ]


def test_another_customers_conversation_and_unknown_messages_are_404(
    client: TestClient, model: FakeChatModel, keys: dict[str, Headers]
) -> None:
    cid, body = answered(client, model)
    reply_id = body["reply"]["id"]
    foreign = rate(client, cid, reply_id, headers=keys["cust-b"], rating="up")
    assert foreign.status_code == 404
    assert rate(client, "nope", reply_id, rating="up").status_code == 404
    unknown = rate(client, cid, "nope", rating="up")
    assert unknown.status_code == 404
    assert "message nope not found" in unknown.json()["detail"]
    # a reply of another conversation of the same customer is not in this one
    other, _ = answered(client, model)
    assert rate(client, other, reply_id, rating="up").status_code == 404
    # staff may rate on a customer's behalf, like they may read the conversation
    assert rate(client, cid, reply_id, headers=keys["alice"], rating="up").status_code == 200


def test_feedback_on_a_message_that_is_no_reply_is_409(
    client: TestClient, model: FakeChatModel
) -> None:
    cid, body = answered(client, model)
    customer_message = body["message_id"]
    response = rate(client, cid, customer_message, rating="down")
    assert response.status_code == 409
    assert "feedback is for the assistant's replies" in response.json()["detail"]


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"rating": "meh"}, "body.rating"),
        ({}, "body.rating"),
        ({"rating": "up", "comment": "x" * 1001}, "body.comment"),
        ({"rating": "up", "comment": 5}, "body.comment"),
    ],
)
def test_a_bad_body_is_422(
    client: TestClient, model: FakeChatModel, payload: dict[str, object], needle: str
) -> None:
    cid, body = answered(client, model)
    response = post(client, cid, body["reply"]["id"], payload)
    assert response.status_code == 422
    assert needle in response.json()["detail"]


def test_the_openapi_document_describes_the_route(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"][
        "/v1/conversations/{conversation_id}/messages/{message_id}/feedback"
    ]["post"]
    assert "**replaces** the first" in operation["description"]
    assert {"200", "404", "422"} <= set(operation["responses"])
    schema = document["components"]["schemas"]["FeedbackCreate"]
    assert schema["properties"]["comment"]["anyOf"][0]["maxLength"] == 1000
