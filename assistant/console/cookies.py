"""Browser sessions behind a cookie, for the console and the chat page alike: an opaque token
whose hash the database keeps (``console_sessions``), HttpOnly, SameSite=Strict, scoped to its
page's path, Secure over HTTPS or when the settings say so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from fastapi.responses import Response

from assistant.api.deps import get_app_settings, get_services


@dataclass(frozen=True)
class SessionCookie:
    name: str
    path: str

    def open(self, request: Request, key_id: str, response: Response) -> None:
        """Open a session for ``key_id`` (ending the one the cookie held) and set the cookie."""
        settings = get_app_settings(request)
        sessions = get_services(request).database.console_sessions
        previous = request.cookies.get(self.name)
        if previous:
            sessions.revoke(previous)
        lifetime = timedelta(hours=settings.console_session_hours)
        opened = sessions.open(key_id, lifetime=lifetime)
        response.set_cookie(
            self.name,
            opened.token,
            httponly=True,
            samesite="strict",
            path=self.path,
            max_age=int(lifetime.total_seconds()),
            secure=settings.console_secure_cookie or request.url.scheme == "https",
        )

    def close(self, request: Request, response: Response) -> None:
        """End the cookie's session in the database, and drop the cookie."""
        token = request.cookies.get(self.name, "")
        if token:
            get_services(request).database.console_sessions.revoke(token)
        response.delete_cookie(self.name, path=self.path, httponly=True, samesite="strict")
