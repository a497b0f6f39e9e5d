"""Who is chatting: the customer whose chat session the cookie holds.

Signing in with a customer key opens a session in the console's store
(assistant/storage/console_sessions.py): a random token in the cookie, only its hash in the
database, expiring, ended at sign-out and when the key is revoked. The cookie is the chat page's
own (``Path=/chat``) and only a customer key's session counts here, while the console counts only
staff sessions: a session opens one of the two, never both. Forms carry the session's CSRF token
(assistant/console/csrf.py), and the Origin check covers ``/chat`` as it covers ``/console``.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from fastapi.responses import Response

from assistant.api.auth import Principal
from assistant.api.deps import get_app_settings, get_services
from assistant.console.csrf import csrf_matches, csrf_token
from assistant.storage.keys import Role

COOKIE = "tether_chat_session"
PATH = "/chat"


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
    settings = get_app_settings(request)
    sessions = get_services(request).database.console_sessions
    previous = request.cookies.get(COOKIE)
    if previous:
        sessions.revoke(previous)
    lifetime = timedelta(hours=settings.console_session_hours)
    opened = sessions.open(customer.key_id, lifetime=lifetime)
    response.set_cookie(
        COOKIE,
        opened.token,
        httponly=True,
        samesite="strict",
        path=PATH,
        max_age=int(lifetime.total_seconds()),
        secure=settings.console_secure_cookie or request.url.scheme == "https",
    )


def close_session(request: Request, response: Response) -> None:
    """End the cookie's session in the database, and drop the cookie."""
    token = request.cookies.get(COOKIE, "")
    if token:
        get_services(request).database.console_sessions.revoke(token)
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")
