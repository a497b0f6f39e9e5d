"""The agent API: the queue, its counts, and the actions on a case."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from assistant.api.auth import AgentKey
from assistant.api.deps import ServicesDep, SettingsDep
from assistant.api.limits import require_text
from assistant.api.schemas import (
    ErrorPublic,
    EscalationDetail,
    EscalationPage,
    EscalationSummary,
    EventPublic,
    NoteRequest,
    ResolvePublic,
    ResolveRequest,
    ReturnRequest,
)
from assistant.api.streaming import message_public
from assistant.desk import RegressionRequest
from assistant.escalations.models import (
    EscalationRecord,
    QueueCounts,
    QueueFilter,
    SortKey,
    Status,
)
from assistant.storage.tables import utcnow
from assistant.wiring import Services

router = APIRouter(prefix="/v1/escalations", tags=["escalations"])

# 400, 401, 413, 422, 429 and 503 are on every operation (assistant/api/openapi.py).
_FORBIDDEN: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorPublic, "description": "Not an agent or admin key"},
}
_CASE: dict[int | str, dict[str, object]] = {
    **_FORBIDDEN,
    404: {"model": ErrorPublic, "description": "Unknown escalation"},
}
_ACTION: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorPublic, "description": "Not an agent key, or another agent's case"},
    404: {"model": ErrorPublic, "description": "Unknown escalation"},
    409: {"model": ErrorPublic, "description": "The case is not in a state for this action"},
}
# Ages beyond ten years and offsets beyond a million rows are refused (422), not computed.
MAX_AGE_MINUTES = 10 * 366 * 24 * 60
MAX_OFFSET = 1_000_000


def summary(record: EscalationRecord, now: datetime) -> EscalationSummary:
    shared = record.model_dump(include=set(EscalationSummary.model_fields))
    return EscalationSummary(
        **shared, overdue=record.overdue(now), age_minutes=round(record.age_minutes(now), 1)
    )


def detail(record: EscalationRecord, services: Services) -> EscalationDetail:
    conversation = services.database.conversations.get(record.conversation_id)
    return EscalationDetail(
        **summary(record, utcnow()).model_dump(),
        transcript=record.transcript,
        verdict=record.verdict,
        evidence=record.evidence,
        resolution=record.resolution,
        events=[EventPublic(**e.model_dump()) for e in record.events],
        conversation=[message_public(m) for m in conversation.messages],
    )


@router.get("", responses=_FORBIDDEN)
def list_escalations(
    _: AgentKey,
    services: ServicesDep,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    reason: str | None = None,
    issue_type: str | None = None,
    priority: str | None = None,
    assignee: str | None = None,
    min_age_minutes: Annotated[
        float | None, Query(ge=0, le=MAX_AGE_MINUTES, allow_inf_nan=False)
    ] = None,
    max_age_minutes: Annotated[
        float | None, Query(ge=0, le=MAX_AGE_MINUTES, allow_inf_nan=False)
    ] = None,
    sort: SortKey = "priority",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> EscalationPage:
    """The queue, most urgent first by default (priority, then oldest)."""
    now = utcnow()
    page = services.database.escalations.page(
        QueueFilter(
            status=status_ or [],
            reason=reason,
            issue_type=issue_type,
            priority=priority,
            assignee=assignee,
            min_age_minutes=min_age_minutes,
            max_age_minutes=max_age_minutes,
        ),
        sort=sort,
        limit=limit,
        offset=offset,
        now=now,
    )
    return EscalationPage(
        items=[summary(r, now) for r in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/counts", responses=_FORBIDDEN)
def counts(_: AgentKey, services: ServicesDep) -> QueueCounts:
    """Cases by status; open and claimed cases by reason and priority; waiting, overdue."""
    return services.database.escalations.counts()


@router.get("/{escalation_id}", responses=_CASE)
def get_escalation(escalation_id: str, _: AgentKey, services: ServicesDep) -> EscalationDetail:
    return detail(services.database.escalations.get(escalation_id), services)


@router.post("/{escalation_id}/claim", responses=_ACTION)
def claim(escalation_id: str, agent: AgentKey, services: ServicesDep) -> EscalationDetail:
    """Take the case. Exactly one of two agents claiming at once wins; the other gets 409."""
    return detail(services.desk.claim(escalation_id, agent.name), services)


@router.post("/{escalation_id}/return", responses=_ACTION)
def give_back(
    escalation_id: str,
    agent: AgentKey,
    services: ServicesDep,
    settings: SettingsDep,
    body: ReturnRequest | None = None,
) -> EscalationDetail:
    """Hand your case back to the queue."""
    note = (body.note if body else "").strip()
    if len(note) > settings.max_note_chars:
        require_text(note, settings.max_note_chars, "the note")
    return detail(services.desk.give_back(escalation_id, agent.name, note), services)


@router.post("/{escalation_id}/notes", responses=_ACTION)
def add_note(
    escalation_id: str,
    body: NoteRequest,
    agent: AgentKey,
    services: ServicesDep,
    settings: SettingsDep,
) -> EscalationDetail:
    text = require_text(body.text, settings.max_note_chars, "the note")
    return detail(services.desk.note(escalation_id, agent.name, text), services)


@router.post("/{escalation_id}/resolve", responses=_ACTION)
def resolve(
    escalation_id: str,
    body: ResolveRequest,
    agent: AgentKey,
    services: ServicesDep,
    settings: SettingsDep,
) -> ResolvePublic:
    """Answer the customer (the reply appears in their conversation, from a person) and close
    the case; optionally record a knowledge-base gap and a regression case for the benchmark."""
    reply = require_text(body.reply, settings.max_reply_chars, "the reply")
    regression = (
        RegressionRequest(**body.regression.model_dump()) if body.regression is not None else None
    )
    record, message = services.desk.resolve(
        escalation_id, agent.name, reply=reply, kb_gap=body.kb_gap, regression=regression
    )
    return ResolvePublic(escalation=detail(record, services), reply=message_public(message))
