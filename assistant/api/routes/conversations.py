from __future__ import annotations

from fastapi import APIRouter, Request, status

from assistant.api.auth import AnyKey, check_owner
from assistant.api.deps import ServicesDep, SettingsDep
from assistant.api.limits import require_text
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
    401: {"model": ErrorPublic, "description": "No valid API key"},
    404: {"model": ErrorPublic, "description": "Unknown conversation"},
    413: {"model": ErrorPublic, "description": "Message too long"},
    422: {"model": ErrorPublic, "description": "Malformed request"},
    503: {"model": ErrorPublic, "description": "The database is unavailable"},
}


def message_public(m: StoredMessage) -> MessagePublic:
    trace = m.trace
    citations = [CitationPublic(**c.model_dump()) for c in trace.citations] if trace else []
    return MessagePublic(
        id=m.id,
        role=m.role,
        text=m.text,
        created_at=m.created_at,
        citations=citations,
        from_person=m.agent_reply is not None,
    )


def _conversation(c: StoredConversation) -> ConversationPublic:
    return ConversationPublic(
        id=c.id,
        customer_ref=c.customer_ref,
        created_at=c.created_at,
        messages=[message_public(m) for m in c.messages],
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
def create_conversation(
    caller: AnyKey, services: ServicesDep, body: ConversationCreate | None = None
) -> ConversationPublic:
    """Open a conversation. One opened with a customer key is visible to that key only."""
    created = services.database.conversations.create(
        customer_ref=body.customer_ref if body else None,
        owner=caller.name if not caller.is_staff else None,
    )
    return _conversation(created)


@router.get("/{conversation_id}", responses=_ERRORS)
def get_conversation(
    conversation_id: str, caller: AnyKey, services: ServicesDep
) -> ConversationPublic:
    """The conversation so far, replies from people marked ``from_person``; never internal
    notes."""
    conversation = services.database.conversations.get(conversation_id)
    check_owner(caller, conversation)
    return _conversation(conversation)


@router.post("/{conversation_id}/messages", responses=_ERRORS)
def post_message(
    request: Request,
    conversation_id: str,
    body: MessageCreate,
    caller: AnyKey,
    services: ServicesDep,
    settings: SettingsDep,
) -> ReplyPublic:
    text = require_text(body.text, settings.max_message_chars, "the message")
    check_owner(caller, services.database.conversations.get(conversation_id))
    outcome = services.chat.post_message(conversation_id, text)
    request.app.state.metrics.observe_reply(outcome.reply)
    reply = outcome.reply
    return ReplyPublic(
        conversation_id=conversation_id,
        message_id=outcome.customer_message.id,
        reply=message_public(outcome.reply_message),
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
