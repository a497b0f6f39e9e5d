from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response, status
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

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
from assistant.chat import MessageOutcome
from assistant.monitoring.metrics import Metrics
from assistant.pipeline.streaming import Progress, Sentence
from assistant.storage import StoredConversation, StoredMessage
from assistant.wiring import Services

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
    """Answer a customer message, as JSON or, with ``Accept: text/event-stream``, streamed."""
    text = require_text(body.text, settings.max_message_chars, "the message")
    conversation = await run_in_threadpool(services.database.conversations.get, conversation_id)
    check_owner(caller, conversation)
    metrics = request.app.state.metrics
    if "text/event-stream" in request.headers.get("accept", ""):
        events = _events(services, conversation_id, text, metrics)
        return EventSourceResponse(events, ping=settings.stream_ping_s)
    outcome = await asyncio.wrap_future(services.workers.submit(conversation_id, text))
    metrics.observe_reply(outcome.reply)
    return reply_public(conversation_id, outcome)


async def _events(
    services: Services, conversation_id: str, text: str, metrics: Metrics
) -> AsyncIterator[ServerSentEvent]:
    """The message's events as they happen; its job goes on if the client leaves."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Queue[Progress | Sentence] = asyncio.Queue()

    def send(event: Progress | Sentence) -> None:
        loop.call_soon_threadsafe(pending.put_nowait, event)

    job: asyncio.Future[MessageOutcome] = asyncio.wrap_future(
        services.workers.submit(conversation_id, text, send)
    )
    while not (job.done() and pending.empty()):
        waiting: asyncio.Future[Progress | Sentence] = asyncio.ensure_future(pending.get())
        either: list[asyncio.Future[object]] = [waiting, job]  # type: ignore[list-item]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
            continue
        event = waiting.result()
        yield ServerSentEvent(event.model_dump_json(exclude={"kind"}), event=event.kind)
    outcome = job.result()
    metrics.observe_reply(outcome.reply)
    if not outcome.reply.answered:
        handoff = {"text": outcome.reply_message.text, "escalation_id": outcome.escalation_id}
        yield ServerSentEvent(json.dumps(handoff), event="handoff")
    yield ServerSentEvent(reply_public(conversation_id, outcome).model_dump_json(), event="done")


def reply_public(conversation_id: str, outcome: MessageOutcome) -> ReplyPublic:
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
