"""Admin-only: API keys, knowledge-base ingestion, settings, and what agents fed back."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from assistant.api.auth import AdminKey
from assistant.api.deps import ServicesDep, SettingsDep
from assistant.api.schemas import ErrorPublic, KeyCreate, KeyIssued, KeyPublic, RequestModel
from assistant.escalations.models import KbGap
from assistant.monitoring.gaps import GapCluster
from assistant.monitoring.kb_gaps import accept_article, ingest_under_lock, suggestions
from assistant.storage.keys import Role
from assistant.storage.locks import AlreadyRunning
from assistant.storage.tables import utcnow
from core.cases import BenchmarkCase
from knowledge_base.ingest import IngestReport

router = APIRouter(prefix="/v1/admin", tags=["admin"])

# 400, 401, 413, 422, 429 and 503 are on every operation (assistant/api/openapi.py).
_ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorPublic, "description": "Not an admin key"},
}
_NAME_TAKEN: dict[int | str, dict[str, object]] = {
    **_ERRORS,
    409: {"model": ErrorPublic, "description": "The name already has keys of another role"},
}
_REVOKE: dict[int | str, dict[str, object]] = {
    **_ERRORS,
    404: {"model": ErrorPublic, "description": "No active key with that id or name"},
    409: {
        "model": ErrorPublic,
        "description": "It would revoke the caller's own key, or the last active admin key",
    },
}
_INGEST: dict[int | str, dict[str, object]] = {
    **_ERRORS,
    409: {"model": ErrorPublic, "description": "Another process is ingesting the knowledge base"},
}
_ACCEPT: dict[int | str, dict[str, object]] = {
    **_ERRORS,
    409: {
        "model": ErrorPublic,
        "description": "The knowledge base is not a folder of articles, or another process is "
        "ingesting it",
    },
}


@router.post("/keys", status_code=status.HTTP_201_CREATED, responses=_NAME_TAKEN)
def create_key(body: KeyCreate, _: AdminKey, services: ServicesDep) -> KeyIssued:
    """Make a key; its secret is in this response only."""
    issued = services.database.keys.create(body.name, Role(body.role))
    return KeyIssued(**issued.key.model_dump(), key=issued.secret)


@router.get("/keys", responses=_ERRORS)
def list_keys(_: AdminKey, services: ServicesDep, include_revoked: bool = False) -> list[KeyPublic]:
    return [
        KeyPublic(**k.model_dump())
        for k in services.database.keys.all(include_revoked=include_revoked)
    ]


@router.delete("/keys/{key_id_or_name}", responses=_REVOKE)
def revoke_key(key_id_or_name: str, admin: AdminKey, services: ServicesDep) -> list[KeyPublic]:
    """Revoke a key by id, or every key of a name, and end their console sessions. A key
    cannot revoke itself, and the last active admin key cannot be revoked (409)."""
    revoked = services.database.keys.revoke(key_id_or_name, by_key_id=admin.key_id)
    return [KeyPublic(**k.model_dump()) for k in revoked]


@router.post("/ingest", responses=_INGEST)
def ingest_knowledge_base(
    _: AdminKey, services: ServicesDep, settings: SettingsDep
) -> IngestReport:
    """Re-read the configured knowledge base and bring the vector store up to date; 409 while
    another process (another replica, ``tether ingest``) is doing so."""
    report = ingest_under_lock(
        services.database, services.vector_store, services.embedder, settings.kb_path
    )
    if isinstance(report, AlreadyRunning):
        raise report.error()
    return report


@router.get("/settings", responses=_ERRORS)
def read_settings(_: AdminKey, settings: SettingsDep) -> dict[str, Any]:
    """The running configuration, secrets masked."""
    values = settings.model_dump(mode="json")
    if settings.database_url:
        from sqlalchemy.engine import make_url

        values["database_url"] = make_url(settings.database_url).render_as_string(
            hide_password=True
        )
    return values


@router.get("/kb-gaps", responses=_ERRORS)
def kb_gaps(_: AdminKey, services: ServicesDep, status_: str | None = "open") -> list[KbGap]:
    """Questions agents answered that the knowledge base could not: candidates for articles."""
    return services.database.escalations.kb_gaps(status_)


@router.get("/regression-cases", responses=_ERRORS)
def regression_cases(_: AdminKey, services: ServicesDep) -> list[BenchmarkCase]:
    """Benchmark cases written from resolved escalations (core.cases format)."""
    return services.database.escalations.regression_cases()


class ArticleAccept(RequestModel):
    # The title and issue type go into the article's YAML front matter: one line each, and
    # nothing YAML would read as syntax (a colon, a comment, a quote or a bracket first).
    title: str = Field(
        min_length=3,
        max_length=200,
        pattern=r"^[0-9A-Za-z\u00c0-\u024f][0-9A-Za-z\u00c0-\u024f ,.!?()'/&+_-]*$",
    )
    issue_type: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    text: str = Field(min_length=20, max_length=20_000)
    item_ids: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="The suggestion's item ids it answers (esc:...)",
    )


class ArticleAccepted(BaseModel):
    article_id: str
    path: str
    closed_gaps: int
    ingest: IngestReport


@router.get("/kb-suggestions", responses=_ERRORS)
def kb_suggestions(
    _: AdminKey,
    services: ServicesDep,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> list[GapCluster]:
    """Topics the knowledge base fails on: escalations, low judge scores, weak retrieval,
    grouped by meaning, with examples, counts and the agents' answers."""
    return suggestions(
        services.database,
        services.embedder,
        since=utcnow() - timedelta(days=days),
        retrieval_below=settings.gap_retrieval_below,
    )


@router.post("/kb-suggestions/accept", status_code=status.HTTP_201_CREATED, responses=_ACCEPT)
def accept_suggestion(
    body: ArticleAccept, _: AdminKey, services: ServicesDep, settings: SettingsDep
) -> ArticleAccepted:
    """Write the article into the knowledge base folder and re-ingest."""
    accepted = accept_article(
        services.database,
        services.vector_store,
        services.embedder,
        settings.kb_path,
        title=body.title,
        issue_type=body.issue_type,
        text=body.text,
        item_ids=body.item_ids,
    )
    return ArticleAccepted(
        article_id=accepted.article_id,
        path=str(accepted.path),
        closed_gaps=accepted.closed_gaps,
        ingest=accepted.ingest,
    )
