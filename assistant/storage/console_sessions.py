"""Console sessions: the cookie holds a random token that is no API key (it never authenticates
an API call), stored here only as its SHA-256. A session ends when it expires, at logout, and
when the key it was opened with is revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import delete, select, update

from assistant.storage.engine import Sessions
from assistant.storage.keys import ApiKey
from assistant.storage.tables import ApiKeyRow, ConsoleSessionRow, utcnow

SESSION_PREFIX = "tcs_"


class ConsoleSession(BaseModel):
    id: str
    key: ApiKey
    created_at: datetime
    expires_at: datetime


class OpenedSession(BaseModel):
    """A new session with its token: the only time the token exists outside the cookie."""

    session: ConsoleSession
    token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class ConsoleSessionStore:
    def __init__(self, sessions: Sessions) -> None:
        self._db = sessions

    def open(
        self, key_id: str, *, lifetime: timedelta, now: datetime | None = None
    ) -> OpenedSession:
        """A session for an active key (sessions that ended long ago are cleared on the way)."""
        now = now or utcnow()
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        with self._db.session() as session:
            key = session.get(ApiKeyRow, key_id)
            if key is None or key.revoked_at is not None:
                raise ValueError(f"key {key_id} is unknown or revoked")
            session.execute(
                delete(ConsoleSessionRow).where(
                    ConsoleSessionRow.expires_at < now - timedelta(days=7)
                )
            )
            row = ConsoleSessionRow(
                token_hash=hash_token(token),
                key_id=key_id,
                created_at=now,
                expires_at=now + lifetime,
            )
            session.add(row)
            session.flush()
            return OpenedSession(session=_session(row, key), token=token)

    def authenticate(self, token: str, *, now: datetime | None = None) -> ConsoleSession | None:
        """The live session of this token, or None: unknown, expired, logged out, or its key
        revoked all look the same."""
        if not token.startswith(SESSION_PREFIX):
            return None
        now = now or utcnow()
        with self._db.session() as session:
            found = session.execute(
                select(ConsoleSessionRow, ApiKeyRow)
                .join(ApiKeyRow, ApiKeyRow.id == ConsoleSessionRow.key_id)
                .where(
                    ConsoleSessionRow.token_hash == hash_token(token),
                    ConsoleSessionRow.revoked_at.is_(None),
                    ConsoleSessionRow.expires_at > now,
                    ApiKeyRow.revoked_at.is_(None),
                )
            ).first()
            if found is None:
                return None
            row, key = found
            return _session(row, key)

    def revoke(self, token: str, *, now: datetime | None = None) -> bool:
        """End the session of this token (logout); False when there was none live."""
        with self._db.session() as session:
            result = session.execute(
                update(ConsoleSessionRow)
                .where(
                    ConsoleSessionRow.token_hash == hash_token(token),
                    ConsoleSessionRow.revoked_at.is_(None),
                )
                .values(revoked_at=now or utcnow())
            )
            return bool(getattr(result, "rowcount", 0))


def _session(row: ConsoleSessionRow, key: ApiKeyRow) -> ConsoleSession:
    return ConsoleSession(
        id=row.id,
        key=ApiKey.model_validate(key, from_attributes=True),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )
