from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, Response, status
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.auth import AnyKey, check_owner
from assistant.api.deps import ServicesDep, SettingsDep
from assistant.api.limits import require_text
from assistant.api.ratelimit import RateLimits
from assistant.api.schemas import (
    ConversationCreate,
    ConversationPublic,
    ErrorPublic,
    FeedbackCreate,
    FeedbackPublic,
    MessageCreate,
    ReplyPublic,
)
from assistant.api.streaming import message_public, reply_public, stream_reply
from assistant.feedback import NotAReplyError
from assistant.storage import StoredConversation

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

# 400, 401, 413, 422, 429 and 503 are on every operation (assistant/api/openapi.py).
_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorPublic, "description": "Unknown conversation (or another key's)"},
}


def _conversation(c: StoredConversation) -> ConversationPublic:
    return ConversationPublic(
        id=c.id,
        customer_ref=c.customer_ref,
        created_at=c.created_at,
        messages=[message_public(m) for m in c.messages],
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_conversation(
    caller: AnyKey, services: ServicesDep, body: ConversationCreate | None = None
) -> ConversationPublic:
    """Open a conversation. One opened with a customer key is visible to that key only (not to
    another key of the same name)."""
    customer = not caller.is_staff
    created = services.database.conversations.create(
        customer_ref=body.customer_ref if body else None,
        owner=caller.name if customer else None,
        owner_key_id=caller.key_id if customer else None,
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


_STREAM = {
    "description": "With `Accept: text/event-stream`: Server-Sent Events. `progress` "
    '(`{"stage": ...}`) as each stage starts; `sentence` (`{"text", "citations"}`) for '
    'each answer sentence once it has passed the check; `handoff` (`{"text", '
    '"escalation_id"}`) when a person takes over; last `done`, with the JSON reply. Comments '
    "keep the connection alive while waiting. A client that goes away does not stop the reply: it "
    "is stored, and `GET` shows it.",
    "content": {"text/event-stream": {}},
}


@router.post(
    "/{conversation_id}/messages",
    response_model=ReplyPublic,
    responses={**_ERRORS, 200: _STREAM},
)
async def post_message(
    request: Request,
    conversation_id: str,
    body: MessageCreate,
    caller: AnyKey,
    services: ServicesDep,
    settings: SettingsDep,
) -> Response | ReplyPublic:
    """Answer a customer message, as JSON or, with ``Accept: text/event-stream``, streamed.
    At most `TETHER_MESSAGES_PER_CONVERSATION` messages per conversation in
    `TETHER_MESSAGE_WINDOW_S` seconds (429 beyond)."""
    text = require_text(body.text, settings.max_message_chars, "the message")
    conversation = await run_in_threadpool(services.database.conversations.get, conversation_id)
    check_owner(caller, conversation)
    limits: RateLimits = request.app.state.rate_limits
    limits.message(conversation_id)
    metrics = request.app.state.metrics
    if "text/event-stream" in request.headers.get("accept", ""):
        events = stream_reply(services, conversation_id, text, metrics)
        return EventSourceResponse(events, ping=settings.stream_ping_s)
    outcome = await asyncio.wrap_future(services.workers.submit(conversation_id, text))
    metrics.observe_reply(outcome.reply)
    return reply_public(conversation_id, outcome)


@router.post(
    "/{conversation_id}/messages/{message_id}/feedback",
    responses={
        404: {
            "model": ErrorPublic,
            "description": "Unknown conversation or message (or another key's)",
        },
        409: {
            "model": ErrorPublic,
            "description": "The message is not one of the assistant's replies",
        },
    },
)
def give_feedback(
    conversation_id: str,
    message_id: str,
    body: FeedbackCreate,
    caller: AnyKey,
    services: ServicesDep,
) -> FeedbackPublic:
    """Rate one of the assistant's replies thumbs up or down, with an optional comment. A second
    rating of the same reply **replaces** the first (the answer holds the rating now stored).

    A thumbs-down on an answer opens a case for a person (reason `customer_feedback`, with the
    comment); a rating of a reply that was handed over is added to the case it opened; neither
    ever opens a second case. 409 for a message that is not an assistant reply (the customer's
    own, or a person's: a well-formed request about the wrong kind of message), 422 for a bad
    body (a rating other than `up`/`down`, a comment over 1,000 characters)."""
    conversation = services.database.conversations.get(conversation_id)
    check_owner(caller, conversation)
    try:
        stored = services.feedback.give(
            conversation, message_id, rating=body.rating, comment=body.comment
        )
    except NotAReplyError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return FeedbackPublic(**stored.model_dump(exclude={"opened_case"}))
