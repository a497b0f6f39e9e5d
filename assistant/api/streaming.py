"""A message's reply as Server-Sent Events, for the API and the console: ``progress`` as each
stage starts, ``sentence`` for each answer sentence once it has passed the check, ``handoff`` when a
person takes over, last ``done`` with the JSON reply. The message's job runs on the message
workers: a client that goes away does not stop it, and the reply is stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from sse_starlette import ServerSentEvent

from assistant.api.schemas import (
    CitationPublic,
    MessagePublic,
    RatingPublic,
    ReplyPublic,
    VerdictPublic,
)
from assistant.chat import MessageOutcome
from assistant.monitoring.metrics import Metrics
from assistant.pipeline.streaming import Progress, Sentence
from assistant.storage import StoredMessage
from assistant.wiring import Services


def message_public(m: StoredMessage) -> MessagePublic:
    trace = m.trace
    citations = [CitationPublic(**c.model_dump()) for c in trace.citations] if trace else []
    feedback = RatingPublic(**m.feedback.model_dump()) if m.feedback is not None else None
    return MessagePublic(
        id=m.id,
        role=m.role,
        text=m.text,
        created_at=m.created_at,
        citations=citations,
        from_person=m.agent_reply is not None,
        feedback=feedback,
    )


async def stream_reply(
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
