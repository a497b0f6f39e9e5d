"""Sending a message from the chat page, and the messages for the page to poll.

``POST /chat/conversations/{id}/messages`` takes the page's form. Sent by the page's script
with ``Accept: text/event-stream``, it answers with the API's stream (assistant/api/streaming.py:
``progress``, ``sentence``, ``handoff``, ``done``); sent without script, it waits for the reply and
redirects back to the conversation, which shows it. The same checks as the API's either way:
the text, the conversation's owner, the per-conversation rate limit, a full house (nothing is
stored when the message is refused).

``GET /chat/conversations/{id}/messages`` is the conversation's lines as JSON
(views.ChatLine), which the page polls for what it has not shown: an agent's reply.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import get_app_settings, get_services
from assistant.api.limits import TextProblem, check_text
from assistant.api.ratelimit import RateLimitedError, RateLimits
from assistant.api.streaming import stream_reply
from assistant.console.routes import CsrfField, see_other
from assistant.workers import BusyError

from .routes import OUT_OF_DATE, not_found, owned_conversation, refused, to_sign_in
from .session import current_customer, genuine_form
from .views import chat_lines

router = APIRouter(prefix="/chat/conversations", include_in_schema=False)


def _problem(status_code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(status_code=status_code, content={"detail": message}, headers=headers)


@router.get("/{conversation_id}/messages")
def lines(request: Request, conversation_id: str) -> Response:
    customer = current_customer(request)
    if customer is None:
        return _problem(401, "sign in again")
    conversation = owned_conversation(request, customer, conversation_id)
    if conversation is None:
        return _problem(404, f"conversation {conversation_id} not found")
    shown = chat_lines(conversation.messages)
    return JSONResponse([line.model_dump(mode="json") for line in shown])


@router.post("/{conversation_id}/messages")
async def send(
    request: Request,
    conversation_id: str,
    text: Annotated[str, Form()] = "",
    submitted: CsrfField = "",
) -> Response:
    streamed = "text/event-stream" in request.headers.get("accept", "")
    page = f"/chat/conversations/{conversation_id}"
    customer = await run_in_threadpool(current_customer, request)
    if customer is None:
        return _problem(401, "sign in again") if streamed else to_sign_in()
    if not genuine_form(request, submitted):
        return _problem(403, OUT_OF_DATE) if streamed else refused(request, customer, OUT_OF_DATE)
    conversation = await run_in_threadpool(owned_conversation, request, customer, conversation_id)
    if conversation is None:
        if streamed:
            return _problem(404, f"conversation {conversation_id} not found")
        return not_found(request, customer, "This conversation")
    settings = get_app_settings(request)
    checked = check_text(text, settings.max_message_chars, "the message")
    if isinstance(checked, TextProblem):
        if streamed:
            return _problem(checked.status_code, checked.message)
        return see_other(page, error=f"Not sent: {checked.message}.")
    limits: RateLimits = request.app.state.rate_limits
    try:
        limits.message(conversation_id)
    except RateLimitedError as exc:
        if streamed:
            return _problem(429, str(exc), {"Retry-After": str(exc.retry_after)})
        return see_other(page, error=f"Not sent: {exc}.")
    services = get_services(request)
    metrics = request.app.state.metrics
    if streamed:
        events = stream_reply(services, conversation_id, checked, metrics)
        return EventSourceResponse(events, ping=settings.stream_ping_s)
    try:
        outcome = await asyncio.wrap_future(services.workers.submit(conversation_id, checked))
    except BusyError as exc:
        return see_other(page, error=f"Not sent: {exc} (in about {exc.retry_after} s).")
    metrics.observe_reply(outcome.reply)
    return see_other(page)
