"""The console's live conversation: staff write as a customer would and watch the reply arrive
as the customer sees it, sentence by sentence once each has passed the check, then the hand-off
when a person takes over. The same stream as the API's (assistant/api/streaming.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import get_app_settings, get_services
from assistant.api.limits import TextProblem, check_text
from assistant.api.ratelimit import RateLimitedError, RateLimits
from assistant.api.streaming import stream_reply

from .csrf import csrf_matches
from .routes import COOKIE, CsrfField, current_agent, templates, to_login

router = APIRouter(prefix="/console/live", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def live_page(request: Request) -> Response:
    agent = current_agent(request)
    if agent is None:
        return to_login()
    conversation = get_services(request).database.conversations.create(
        customer_ref=f"console:{agent.name}"
    )
    return templates.TemplateResponse(
        request, "live.html", {"agent": agent, "conversation": conversation}
    )


@router.post("/{conversation_id}/messages")
async def live_message(
    request: Request,
    conversation_id: str,
    text: Annotated[str, Form()],
    submitted: CsrfField = "",
) -> Response:
    agent = await run_in_threadpool(current_agent, request)
    if agent is None:
        return JSONResponse(status_code=401, content={"detail": "log in again"})
    if not csrf_matches(request.cookies.get(COOKIE, ""), submitted):
        return JSONResponse(
            status_code=403, content={"detail": "this page is out of date: reload it"}
        )
    settings = get_app_settings(request)
    checked = check_text(text, settings.max_message_chars, "the message")
    if isinstance(checked, TextProblem):
        return JSONResponse(status_code=checked.status_code, content={"detail": checked.message})
    services = get_services(request)
    await run_in_threadpool(services.database.conversations.get, conversation_id)
    limits: RateLimits = request.app.state.rate_limits
    try:
        limits.message(conversation_id)
    except RateLimitedError as exc:
        return JSONResponse(
            status_code=429,
            content={"detail": str(exc)},
            headers={"Retry-After": str(exc.retry_after)},
        )
    metrics = request.app.state.metrics
    events = stream_reply(services, conversation_id, checked, metrics)
    return EventSourceResponse(events, ping=settings.stream_ping_s)
