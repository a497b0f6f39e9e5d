from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from assistant.api.deps import ServicesDep, SettingsDep
from assistant.api.schemas import (
    CitationPublic,
    ConversationCreate,
    ConversationPublic,
    ErrorPublic,
    MessageCreate,
    MessagePublic,
    ReplyPublic,
    VerdictPublic,
)
from assistant.storage import StoredConversation, StoredMessage

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorPublic, "description": "Unknown conversation"},
    413: {"model": ErrorPublic, "description": "Message too long"},
    422: {"model": ErrorPublic, "description": "Malformed request"},
    503: {"model": ErrorPublic, "description": "The database is unavailable"},
}


def _message(m: StoredMessage) -> MessagePublic:
    citations = [CitationPublic.model_validate(c) for c in m.meta.get("citations", [])]
    return MessagePublic(
        id=m.id, role=m.role, text=m.text, created_at=m.created_at, citations=citations
    )


def _conversation(c: StoredConversation) -> ConversationPublic:
    return ConversationPublic(
        id=c.id,
        customer_ref=c.customer_ref,
        created_at=c.created_at,
        messages=[_message(m) for m in c.messages],
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
def create_conversation(
    services: ServicesDep, body: ConversationCreate | None = None
) -> ConversationPublic:
    created = services.database.create_conversation(
        customer_ref=body.customer_ref if body else None
    )
    return _conversation(created)


@router.get("/{conversation_id}", responses=_ERRORS)
def get_conversation(conversation_id: str, services: ServicesDep) -> ConversationPublic:
    return _conversation(services.database.get_conversation(conversation_id))


@router.post("/{conversation_id}/messages", responses=_ERRORS)
def post_message(
    conversation_id: str, body: MessageCreate, services: ServicesDep, settings: SettingsDep
) -> ReplyPublic:
    text = body.text.strip()
    if not text:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "message text is empty")
    if len(text) > settings.max_message_chars:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"message is {len(text)} characters; the limit is {settings.max_message_chars}",
        )
    outcome = services.chat.post_message(conversation_id, text)
    reply = outcome.reply
    return ReplyPublic(
        conversation_id=conversation_id,
        message_id=outcome.customer_message.id,
        reply=_message(outcome.reply_message),
        answered=reply.answered,
        citations=[CitationPublic(**c.model_dump()) for c in reply.citations],
        issue_type=reply.classification.issue_type,
        confidence=round(reply.classification.confidence, 4),
        verdict=VerdictPublic(
            outcome=reply.verdict.outcome,
            reasons=[str(r) for r in reply.verdict.reasons],
            tier=reply.verdict.tier,
        ),
        escalation_id=outcome.escalation_id,
        latency_ms=reply.latency_ms,
    )
