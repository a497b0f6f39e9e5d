"""What the fuzzer found, tried again from the wrong side: numbers past any sense, blank names,
invalid Unicode, and an OpenAPI document that has to tell the truth about all of it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assistant.api.schemas import ValidationErrorPublic
from assistant.settings import Settings
from assistant.storage import Database
from tests.assistant.api.conftest import Headers
from tests.assistant.api.test_access import open_conversation


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"max_age_minutes": "1e308"}, "max_age_minutes"),
        ({"min_age_minutes": "1e17"}, "min_age_minutes"),
        ({"min_age_minutes": "inf"}, "min_age_minutes"),
        ({"max_age_minutes": "nan"}, "max_age_minutes"),
        ({"offset": "99999999999999999999"}, "offset"),
        ({"offset": "1000001"}, "offset"),
    ],
)
def test_numbers_past_any_sense_are_a_422_that_names_them(
    client: TestClient, keys: dict[str, Headers], params: dict[str, str], field: str
) -> None:
    response = client.get("/v1/escalations", params=params, headers=keys["alice"])
    assert response.status_code == 422, response.text
    body = ValidationErrorPublic.model_validate(response.json())
    assert f"query.{field}" in body.detail
    assert body.errors[0].loc == ["query", field]


def test_the_largest_sensible_numbers_still_work(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    params = {"min_age_minutes": "5000000", "max_age_minutes": "5000000", "offset": "1000000"}
    response = client.get("/v1/escalations", params=params, headers=keys["alice"])
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


@pytest.mark.parametrize("name", [" ", "\t\n", "\u3000", "\ufeff "])
def test_a_blank_key_name_is_a_422_and_makes_no_key(
    client: TestClient, keys: dict[str, Headers], database: Database, name: str
) -> None:
    response = client.post(
        "/v1/admin/keys", json={"name": name, "role": "customer"}, headers=keys["root"]
    )
    assert response.status_code == 422, response.text
    assert "body.name" in response.json()["detail"]
    assert len(database.keys.all()) == 5


def test_a_key_name_is_stored_without_surrounding_white_space(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    made = client.post(
        "/v1/admin/keys", json={"name": "  carol \n", "role": "agent"}, headers=keys["root"]
    )
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "carol"


def test_a_lone_surrogate_is_stored_as_a_replacement_character_not_lost(
    client: TestClient, database: Database
) -> None:
    cid = open_conversation(client, {})
    raw = b'{"text": "\\ud800 refund please \\udfff\\u0000!"}'
    response = client.post(
        f"/v1/conversations/{cid}/messages",
        content=raw,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    stored = database.conversations.get(cid).messages
    assert stored[0].text == "\ufffd refund please \ufffd\ufffd!"
    seen = client.get(f"/v1/conversations/{cid}").json()["messages"]
    assert seen[0]["text"] == "\ufffd refund please \ufffd\ufffd!"


def test_invalid_utf8_and_surrogates_elsewhere_in_a_body_never_break_the_server(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    made = client.post(
        "/v1/conversations",
        content=b'{"customer_ref": "ref-\\udc00", "\\ud800": 1}',
        headers={"content-type": "application/json"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["customer_ref"] == "ref-\ufffd"
    broken = client.post(
        "/v1/conversations",
        content=b'{"customer_ref": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert broken.status_code in (400, 422), broken.text
    named = client.post(
        "/v1/admin/keys",
        content=b'{"name": "\\ud83d", "role": "customer"}',
        headers={"content-type": "application/json", **keys["root"]},
    )
    assert named.status_code == 201, named.text
    assert named.json()["name"] == "\ufffd"


def test_an_empty_message_is_refused_by_the_schema_itself(client: TestClient) -> None:
    cid = open_conversation(client, {})
    response = client.post(f"/v1/conversations/{cid}/messages", json={"text": ""})
    assert response.status_code == 422
    body = ValidationErrorPublic.model_validate(response.json())
    assert (body.errors[0].loc, body.errors[0].type) == (["body", "text"], "string_too_short")


def test_the_openapi_document_describes_every_error_the_app_returns(
    client: TestClient, app_settings: Settings
) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ValidationErrorPublic"]["properties"]) == {"detail", "errors"}
    message = schemas["MessageCreate"]["properties"]["text"]
    assert (message["minLength"], message["maxLength"], message["pattern"]) == (
        1,
        app_settings.max_message_chars,
        r"\S",
    )
    assert schemas["NoteRequest"]["properties"]["text"]["maxLength"] == 100
    assert schemas["ResolveRequest"]["properties"]["reply"]["maxLength"] == 300
    error = "#/components/schemas/ErrorPublic"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            assert responses["413"]["content"]["application/json"]["schema"]["$ref"] == error
            if "422" in responses:
                ref = responses["422"]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ValidationErrorPublic"), where
            if operation.get("security"):
                assert "WWW-Authenticate" in responses["401"]["headers"], where
                assert "Retry-After" in responses["429"]["headers"], where
            if "requestBody" in operation:
                assert "400" in responses, where
            if path.startswith("/v1/"):
                assert "503" in responses, where
            if path.startswith(("/v1/escalations", "/v1/admin")):
                assert "403" in responses, where
    assert "409" in document["paths"]["/v1/escalations/{escalation_id}/claim"]["post"]["responses"]
    revoke = document["paths"]["/v1/admin/keys/{key_id_or_name}"]["delete"]["responses"]
    assert {"404", "409"} <= set(revoke)
    assert "503" in document["paths"]["/readyz"]["get"]["responses"]


def test_the_interactive_docs_run_no_inline_script(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assert client.get("/docs/start.js").headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/admin/keys", "GET, OPTIONS, POST"),
        ("/v1/conversations", "OPTIONS, POST"),
        ("/v1/conversations/abc", "GET, OPTIONS"),
        ("/v1/admin/keys/abc", "DELETE, OPTIONS"),
        ("/console/cases/abc", "GET, OPTIONS"),
    ],
)
def test_options_and_405_name_every_method_of_the_path(
    client: TestClient, path: str, allow: str
) -> None:
    options = client.options(path)
    assert (options.status_code, options.headers["allow"]) == (204, allow)
    wrong = client.request("PATCH", path)
    assert (wrong.status_code, wrong.headers["allow"]) == (405, allow)
    assert client.options("/no/such/path").status_code == 404
