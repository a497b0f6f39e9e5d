"""What keeps another site from acting in the console under an agent's name.

- Every form carries a token tied to the session: an HMAC of the session's secret cookie, so a
  page elsewhere (which can neither read the cookie nor the console's pages) cannot know it.
- Every unsafe request to ``/console`` (and the customers' ``/chat``) whose ``Origin`` (or,
  without one, ``Referer``) names another host is refused with 403 before any route runs.
  Browsers send ``Origin`` with every POST; a request with neither header comes from no browser
  page, and still needs the token.
- The session cookie itself is ``SameSite=Strict`` and ``HttpOnly``.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The pages that act on a session cookie: the console, and the customers' chat page.
SESSION_PATHS = ("/console", "/chat")
FIELD = "csrf_token"


def csrf_token(session_token: str) -> str:
    """The forms' token of a session."""
    return hmac.new(
        session_token.encode("utf-8", "surrogatepass"), b"tether-console-csrf", hashlib.sha256
    ).hexdigest()


def csrf_matches(session_token: str, submitted: str) -> bool:
    expected = csrf_token(session_token).encode("ascii")
    return hmac.compare_digest(expected, submitted.encode("utf-8", "replace"))


def same_origin(headers: Headers) -> bool:
    """False when Origin (or, without it, Referer) names another host than the request's."""
    host = headers.get("host", "").lower()
    origin = headers.get("origin")
    if origin is not None:
        return urlsplit(origin).netloc.lower() == host and bool(host)
    referer = headers.get("referer")
    if referer is not None:
        return urlsplit(referer).netloc.lower() == host and bool(host)
    return True


class ConsoleOriginCheck:
    """403 for an unsafe request to the console or the chat page from a page of another site."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in SAFE_METHODS
            and scope.get("path", "").startswith(SESSION_PATHS)
            and not same_origin(Headers(scope=scope))
        ):
            response = PlainTextResponse(
                "Refused: this request came from a page of another site.",
                status_code=403,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
