"""The OpenAPI document as the app behaves: the error bodies it really returns on every
operation, and the text limits of the running settings."""

from __future__ import annotations

from typing import Any

from assistant.api.schemas import ErrorPublic, ValidationErrorPublic
from assistant.settings import Settings

_REF = "#/components/schemas/{model}"


def _error(description: str, model: str = "ErrorPublic", **headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF.format(model=model)}}},
    }
    if headers:
        response["headers"] = {
            name: {
                "description": text,
                "schema": {"type": "integer" if name == "Retry-After" else "string"},
            }
            for name, text in headers.items()
        }
    return response


BAD_BODY = _error("The body could not be read: not JSON, or not UTF-8")
UNAUTHENTICATED = _error(
    "No API key, or an unknown or revoked one",
    **{"WWW-Authenticate": "`Bearer`"},
)
TOO_LARGE = _error(
    "The request body is over `TETHER_MAX_BODY_BYTES`, or a text in it over its limit"
)
MALFORMED = _error(
    "Malformed request: every wrong field in `errors`, or the reason in `detail`",
    model="ValidationErrorPublic",
)
RATE_LIMITED = _error(
    "Too many failed authentications from this address or with this key prefix, or too many "
    "messages in this conversation; retry after `Retry-After` seconds",
    **{"Retry-After": "Seconds to wait"},
)
DATABASE_DOWN = _error("The database is unavailable; retry later")

# The texts whose limit is a setting: (schema, property, setting).
TEXT_LIMITS = (
    ("MessageCreate", "text", "max_message_chars"),
    ("NoteRequest", "text", "max_note_chars"),
    ("ReturnRequest", "note", "max_note_chars"),
    ("ResolveRequest", "reply", "max_reply_chars"),
)


def _components(schema: dict[str, Any]) -> dict[str, Any]:
    components: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorPublic, ValidationErrorPublic):
        body = model.model_json_schema(ref_template=_REF)
        components.update(body.pop("$defs", {}))
        components[model.__name__] = body
    for generated in ("HTTPValidationError", "ValidationError"):
        components.pop(generated, None)
    return components


def finish(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """``schema`` (FastAPI's) made true to the app; returns it."""
    components = _components(schema)
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if "422" in responses:  # FastAPI's own 422 body is not the one the app returns
                responses["422"] = MALFORMED
            if "requestBody" in operation:
                responses.setdefault("400", BAD_BODY)
            if operation.get("security"):
                responses.setdefault("401", UNAUTHENTICATED)
                responses.setdefault("429", RATE_LIMITED)
            responses.setdefault("413", TOO_LARGE)
            if path.startswith("/v1/"):
                responses.setdefault("503", DATABASE_DOWN)
    for model, field, setting in TEXT_LIMITS:
        properties = components.get(model, {}).get("properties", {})
        if field in properties:
            properties[field]["maxLength"] = getattr(settings, setting)
    return schema
