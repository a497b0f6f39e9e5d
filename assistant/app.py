"""The FastAPI application: routers, error mapping, and the services it runs on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from assistant.api import errors, openapi
from assistant.api.middleware import BodySizeLimit, MethodsAllowed, SecurityHeaders
from assistant.api.ratelimit import RateLimits
from assistant.api.routes import admin, conversations, docs, escalations, health
from assistant.console import live as console_live
from assistant.console import quality as console_quality
from assistant.console import routes as console
from assistant.console.csrf import ConsoleOriginCheck
from assistant.monitoring.logs import new_trace_id, trace_id
from assistant.monitoring.metrics import CONTENT_TYPE, Metrics
from assistant.settings import Settings, get_settings
from assistant.webchat import articles as chat_articles
from assistant.webchat import feedback as chat_feedback
from assistant.webchat import messages as chat_messages
from assistant.webchat import routes as chat
from assistant.wiring import Services, build_services


def create_app(services: Services | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "services", None) is None:
            app.state.services = build_services(settings)
            app.state.services.warm()
            app.state.services.recover()
            app.state.services.keep_recovering()
        yield

    # FastAPI's /docs and /redoc run inline script, which the Content-Security-Policy refuses:
    # /docs is served without (assistant/api/routes/docs.py); the document is /openapi.json.
    app = FastAPI(
        title="Tether",
        summary="A support assistant whose answers stay tethered to a knowledge base.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.rate_limits = RateLimits(settings)
    app.state.metrics = Metrics(
        queue_counts=lambda: app.state.services.database.escalations.counts()
    )

    # Innermost first: the body cap and the console's origin check run inside the trace
    # (so their answers are counted), the security headers outside everything.
    app.add_middleware(ConsoleOriginCheck)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MethodsAllowed, router=app.router)

    @app.middleware("http")
    async def trace_and_count(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        token = trace_id.set(request.headers.get("x-request-id") or new_trace_id())
        try:
            response = await call_next(request)
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            app.state.metrics.requests.labels(request.method, path, response.status_code).inc()
            response.headers["X-Trace-Id"] = trace_id.get()
            return response
        finally:
            trace_id.reset(token)

    # An endpoint reads the app from its request, never from this closure: FastAPI keeps every
    # endpoint it has classified in a module-level cache (up to 4,096), so an endpoint closing
    # over ``app`` kept each app built in a process alive, with its services and database.
    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)

    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(conversations.router)
    app.include_router(escalations.router)
    app.include_router(admin.router)
    app.include_router(console.router)
    app.include_router(console_quality.router)
    app.include_router(console_live.router)
    app.mount("/console/static", StaticFiles(directory=console.HERE / "static"), name="static")
    app.include_router(chat.router)
    app.include_router(chat_messages.router)
    app.include_router(chat_articles.router)
    app.include_router(chat_feedback.router)
    app.mount("/chat/static", StaticFiles(directory=chat.HERE / "static"), name="chat-static")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/console")

    app.add_middleware(SecurityHeaders)
    errors.install(app)

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            app.openapi_schema = openapi.finish(schema, settings)
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
    return app
