"""ASGI middleware around every route: the body-size cap, the ``Allow`` header of OPTIONS and
405 answers, and the security headers (with a 500 that carries them when a route crashes)."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api.errors import ErrorResponse

# No inline script or style, nothing from elsewhere, never in a frame. Plots are data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class BodyTooLarge(HTTPException):
    """Raised while a body is read, once it passes the cap. An HTTPException, so FastAPI's body
    parsing lets it through and it is answered like any other 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit} bytes")


class BodySizeLimit:
    """413 for a body over ``max_bytes``: at once when Content-Length says so (the body is not
    read and the route does not run), and while it is read when it comes in chunks."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await ErrorResponse(
                    status_code=400, content={"detail": "Content-Length is not a number"}
                )(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await ErrorResponse(
                    status_code=413,
                    content={
                        "detail": f"the request body is {int(declared)} bytes; the limit is "
                        f"{self.max_bytes}"
                    },
                    headers={"Connection": "close"},
                )(scope, receive, send)
                return
        received = 0
        started = False

        async def guarded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, watched_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await ErrorResponse(
                status_code=413, content={"detail": exc.detail}, headers={"Connection": "close"}
            )(scope, receive, send)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(router: Router, scope: Scope) -> set[str]:
    """Every method some route serves at this path (empty when no route has the path): each
    method is tried the way the router would route it."""
    methods: set[str] = set()
    for method in METHODS:
        probe = {**scope, "method": method}
        for route in router.routes:
            match, _ = route.matches(probe)
            if match != Match.FULL:
                continue
            if not isinstance(route, Mount) or method in ("GET", "HEAD"):  # static files
                methods.add(method)
            break
    return methods


class MethodsAllowed:
    """OPTIONS answers 204 with the path's methods in ``Allow``; a 405 lists them all (the
    router alone names only the first route it found at that path)."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            methods = allowed_methods(self.router, scope)
            if not methods:
                await self.app(scope, receive, send)  # no such path: the router's 404
                return
            allow = ", ".join(sorted(methods | {"OPTIONS"}))
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [(b"allow", allow.encode("latin-1"))],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = allowed_methods(self.router, scope)
                if methods:
                    MutableHeaders(scope=message)["Allow"] = ", ".join(
                        sorted(methods | {"OPTIONS"})
                    )
            await send(message)

        await self.app(scope, receive, send_with_allow)


# Pages that show customers' words, and their static files (which may be cached).
PRIVATE_PAGES = ("/console", "/chat")
STATIC = ("/console/static", "/chat/static")


class SecurityHeaders:
    """The security headers on every response; ``Cache-Control: no-store`` on the pages of the
    console and the chat (they show customers' words). A route that crashes still answers 500
    with them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        private_page = path.startswith(PRIVATE_PAGES) and not path.startswith(STATIC)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if private_page:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                response = ErrorResponse(status_code=500, content={"detail": "internal error"})
                await response(scope, receive, send_with_headers)
            raise
