"""Conversations and their messages. The customer's message is written before any model runs,
so a failure later on loses nothing."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import func, select

from assistant.errors import NotFoundError
from assistant.storage.tables import ConversationRow, MessageRow, utcnow

if TYPE_CHECKING:
    from assistant.storage.database import Database


class StoredMessage(BaseModel):
    id: str
    role: str
    text: str
    created_at: datetime
    meta: dict[str, Any]


class StoredConversation(BaseModel):
    id: str
    customer_ref: str | None
    owner: str | None
    created_at: datetime
    messages: list[StoredMessage]


class ConversationStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create(
        self, *, customer_ref: str | None = None, owner: str | None = None
    ) -> StoredConversation:
        with self._db.session() as session:
            row = ConversationRow(customer_ref=customer_ref, owner=owner)
            session.add(row)
            session.flush()
            return StoredConversation(
                id=row.id,
                customer_ref=row.customer_ref,
                owner=row.owner,
                created_at=row.created_at,
                messages=[],
            )

    def get(self, conversation_id: str) -> StoredConversation:
        with self._db.session() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                raise NotFoundError(f"conversation {conversation_id} not found")
            messages = session.scalars(
                select(MessageRow)
                .where(MessageRow.conversation_id == conversation_id)
                .order_by(MessageRow.seq)
            ).all()
            return StoredConversation(
                id=row.id,
                customer_ref=row.customer_ref,
                owner=row.owner,
                created_at=row.created_at,
                messages=[to_message(m) for m in messages],
            )

    def add_message(
        self,
        conversation_id: str,
        *,
        role: str,
        text: str,
        meta: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> StoredMessage:
        """Append a message; ``at`` backdates it (imports, simulations), default now."""
        with self._db.session() as session:
            return add_message(session, conversation_id, role=role, text=text, meta=meta, at=at)


def add_message(
    session: Any,
    conversation_id: str,
    *,
    role: str,
    text: str,
    meta: dict[str, Any] | None,
    at: datetime | None = None,
) -> StoredMessage:
    """Append a message inside a caller's transaction (the queue delivers replies this way)."""
    if session.get(ConversationRow, conversation_id) is None:
        raise NotFoundError(f"conversation {conversation_id} not found")
    last = session.scalar(
        select(func.max(MessageRow.seq)).where(MessageRow.conversation_id == conversation_id)
    )
    row = MessageRow(
        conversation_id=conversation_id,
        seq=(last or 0) + 1,
        role=role,
        text=text,
        meta=meta or {},
        created_at=at or utcnow(),
    )
    session.add(row)
    session.flush()
    return to_message(row)


def to_message(row: MessageRow) -> StoredMessage:
    return StoredMessage(
        id=row.id, role=row.role, text=row.text, created_at=row.created_at, meta=row.meta
    )
