"""Who is chatting: the customer whose chat session the cookie holds.

Signing in with a customer key opens a session in the console's store
(assistant/storage/console_sessions.py): a random token in the cookie, only its hash in the
database, expiring, ended at sign-out and when the key is revoked. The cookie is the chat page's
own (``Path=/chat``) and only a customer key's session counts here, while the console counts only
staff sessions: a session opens one of the two, never both. Forms carry the session's CSRF token
(assistant/console/csrf.py), and the Origin check covers ``/chat`` as it covers ``/console``.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from assistant.api.auth import Principal
from assistant.api.deps import get_services
from assistant.console.cookies import SessionCookie
from assistant.console.csrf import csrf_matches, csrf_token
from assistant.storage.keys import Role

COOKIE = "tether_chat_session"
PATH = "/chat"
SESSION = SessionCookie(COOKIE, PATH)


def current_customer(request: Request) -> Principal | None:
    """The customer whose live session the cookie holds, or None (no session, an ended one, or
    one opened with a staff key)."""
    if hasattr(request.state, "customer"):
        known: Principal | None = request.state.customer
        return known
    token = request.cookies.get(COOKIE, "")
    found = get_services(request).database.console_sessions.authenticate(token) if token else None
    customer = None
    if found is not None and found.key.role == Role.CUSTOMER:
        customer = Principal(name=found.key.name, role=found.key.role, key_id=found.key.id)
        request.state.csrf_token = csrf_token(token)
    request.state.customer = customer
    return customer


def genuine_form(request: Request, submitted: str) -> bool:
    """Whether a form's CSRF token is this session's."""
    return csrf_matches(request.cookies.get(COOKIE, ""), submitted)


def open_session(request: Request, customer: Principal, response: Response) -> None:
    """Open a session for ``customer`` (ending the one the cookie held) and set its cookie."""
    SESSION.open(request, customer.key_id, response)


def close_session(request: Request, response: Response) -> None:
    """End the cookie's session in the database, and drop the cookie."""
    SESSION.close(request, response)
