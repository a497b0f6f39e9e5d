"""Every boundary tried from the wrong side."""

import pytest
from fastapi.testclient import TestClient

from assistant.storage import Database
from tests.assistant.api.conftest import Headers


def open_conversation(client: TestClient, headers: Headers) -> str:
    response = client.post("/v1/conversations", json={}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer tth_not-a-key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_no_key_or_a_bad_key_is_401(client: TestClient, headers: Headers) -> None:
    client.headers.clear()
    for method, path in [
        ("post", "/v1/conversations"),
        ("get", "/v1/conversations/x"),
        ("get", "/v1/escalations"),
        ("get", "/v1/admin/keys"),
    ]:
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert "API key" in response.json()["detail"]


def test_a_revoked_key_stops_working(client: TestClient, keys: dict[str, Headers]) -> None:
    assert client.get("/v1/escalations", headers=keys["bob"]).status_code == 200
    assert client.delete("/v1/admin/keys/bob", headers=keys["root"]).status_code == 200
    assert client.get("/v1/escalations", headers=keys["bob"]).status_code == 401


def test_a_customer_key_sees_only_its_own_conversations(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    mine = open_conversation(client, keys["cust-a"])
    theirs = open_conversation(client, keys["cust-b"])
    assert client.get(f"/v1/conversations/{mine}", headers=keys["cust-a"]).status_code == 200
    # another customer's conversation looks like one that does not exist, for reading and writing
    assert client.get(f"/v1/conversations/{theirs}", headers=keys["cust-a"]).status_code == 404
    post = client.post(
        f"/v1/conversations/{theirs}/messages", json={"text": "hi"}, headers=keys["cust-a"]
    )
    assert post.status_code == 404
    # staff can read any conversation
    assert client.get(f"/v1/conversations/{theirs}", headers=keys["alice"]).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/escalations"),
        ("get", "/v1/escalations/counts"),
        ("get", "/v1/escalations/some-id"),
        ("post", "/v1/escalations/some-id/claim"),
        ("post", "/v1/escalations/some-id/return"),
        ("post", "/v1/escalations/some-id/notes"),
        ("post", "/v1/escalations/some-id/resolve"),
    ],
)
def test_agent_endpoints_refuse_customer_keys(
    client: TestClient, keys: dict[str, Headers], method: str, path: str
) -> None:
    response = client.request(method, path, headers=keys["cust-a"], json={"text": "x"})
    assert response.status_code == 403
    assert "agent or admin key" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/admin/keys"),
        ("post", "/v1/admin/keys"),
        ("delete", "/v1/admin/keys/alice"),
        ("post", "/v1/admin/ingest"),
        ("get", "/v1/admin/settings"),
        ("get", "/v1/admin/kb-gaps"),
        ("get", "/v1/admin/regression-cases"),
    ],
)
@pytest.mark.parametrize("who", ["cust-a", "alice"])
def test_admin_endpoints_refuse_customer_and_agent_keys(
    client: TestClient,
    keys: dict[str, Headers],
    database: Database,
    method: str,
    path: str,
    who: str,
) -> None:
    response = client.request(method, path, headers=keys[who], json={"name": "x", "role": "admin"})
    assert response.status_code == 403
    assert "admin key" in response.json()["detail"]
    assert len(database.keys.all()) == 5  # nothing was made or revoked


def test_an_admin_makes_lists_and_revokes_keys_and_the_secret_is_shown_once(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    made = client.post(
        "/v1/admin/keys", json={"name": "carol", "role": "agent"}, headers=keys["root"]
    )
    assert made.status_code == 201
    secret = made.json()["key"]
    listed = client.get("/v1/admin/keys", headers=keys["root"]).json()
    assert "carol" in [k["name"] for k in listed]
    assert secret not in str(listed)
    carol = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/escalations", headers=carol).status_code == 200
    bad_role = client.post(
        "/v1/admin/keys", json={"name": "x", "role": "god"}, headers=keys["root"]
    )
    assert bad_role.status_code == 422
    assert client.delete("/v1/admin/keys/nobody", headers=keys["root"]).status_code == 404


def test_admin_settings_mask_secrets(client: TestClient, keys: dict[str, Headers]) -> None:
    settings = client.get("/v1/admin/settings", headers=keys["root"]).json()
    assert settings["openai_api_key"] == "**********"
    assert settings["max_message_chars"] == 200


def test_admin_ingest_brings_the_store_up_to_date(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    response = client.post("/v1/admin/ingest", headers=keys["root"])
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["added"] or report["updated"] or report["unchanged"]
