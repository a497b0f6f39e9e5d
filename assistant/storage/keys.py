"""API keys, stored as SHA-256 hashes; the key itself is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import func, select, update

from assistant.storage.engine import Sessions
from assistant.storage.tables import ApiKeyRow, ConsoleSessionRow, utcnow
from assistant.storage.text import strip_space
from core.errors import ConflictError, NotFoundError

KEY_PREFIX = "tth_"


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    ADMIN = "admin"


class ApiKey(BaseModel):
    id: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class IssuedKey(BaseModel):
    """A new key with its secret: the only time the secret exists outside the caller's hands."""

    key: ApiKey
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class KeyStore:
    def __init__(self, sessions: Sessions) -> None:
        self._db = sessions

    def create(self, name: str, role: Role) -> IssuedKey:
        name = strip_space(name)
        if not name:
            raise ValueError("a key needs a name (the agent or client it speaks for)")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._db.session() as session:
            other_role = session.scalar(
                select(ApiKeyRow.role).where(ApiKeyRow.name == name, ApiKeyRow.role != role)
            )
            if other_role is not None:
                raise ConflictError(f"{name!r} already has {other_role} keys; one name, one role")
            row = ApiKeyRow(name=name, role=role, key_hash=hash_key(secret), prefix=secret[:10])
            session.add(row)
            session.flush()
            return IssuedKey(key=_key(row), secret=secret)

    def authenticate(self, secret: str) -> ApiKey | None:
        """The active key with this secret, or None (unknown and revoked look the same)."""
        with self._db.session() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_key(secret)))
            if row is None or row.revoked_at is not None:
                return None
            return _key(row)

    def revoke(self, key_id_or_name: str, *, by_key_id: str | None = None) -> list[ApiKey]:
        """Revoke one key by id, or every active key of a name, and end their console sessions.
        Returns what was revoked.

        Refused (ConflictError) when it would revoke ``by_key_id``, the caller's own key, or
        leave no active admin key: nobody could then make or revoke keys but the command line.
        """
        with self._db.session() as session:
            # Lock the active admin keys first (PostgreSQL), so two admins revoking each other
            # at once cannot both win; SQLite serialises the writers anyway.
            session.scalars(
                select(ApiKeyRow.id)
                .where(ApiKeyRow.role == Role.ADMIN, ApiKeyRow.revoked_at.is_(None))
                .with_for_update()
            ).all()
            rows = session.scalars(
                select(ApiKeyRow).where(
                    (ApiKeyRow.id == key_id_or_name) | (ApiKeyRow.name == key_id_or_name),
                    ApiKeyRow.revoked_at.is_(None),
                )
            ).all()
            if not rows:
                raise NotFoundError(f"no active key with id or name {key_id_or_name!r}")
            if by_key_id is not None and any(r.id == by_key_id for r in rows):
                raise ConflictError(
                    "a key cannot revoke itself: revoke it with another admin key or the CLI"
                )
            now = utcnow()
            for row in rows:
                row.revoked_at = now
            session.flush()
            if any(r.role == Role.ADMIN for r in rows):
                admins_left = session.scalar(
                    select(func.count())
                    .select_from(ApiKeyRow)
                    .where(ApiKeyRow.role == Role.ADMIN, ApiKeyRow.revoked_at.is_(None))
                )
                if not admins_left:
                    raise ConflictError(
                        "that would revoke the last active admin key; make another admin key "
                        "first (tether keys create NAME --role admin)"
                    )
            session.execute(
                update(ConsoleSessionRow)
                .where(
                    ConsoleSessionRow.key_id.in_([r.id for r in rows]),
                    ConsoleSessionRow.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            return [_key(r) for r in rows]

    def all(self, *, include_revoked: bool = False) -> list[ApiKey]:
        with self._db.session() as session:
            query = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
            if not include_revoked:
                query = query.where(ApiKeyRow.revoked_at.is_(None))
            return [_key(r) for r in session.scalars(query)]


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey.model_validate(row, from_attributes=True)
