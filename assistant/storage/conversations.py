"""Conversations and their messages. The customer's message is written before any model runs,
so a failure later on loses nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.pipeline.trace import ReplyTrace
from assistant.storage.engine import Sessions
from assistant.storage.tables import ConversationRow, FeedbackRow, MessageRow, utcnow
from core.conversation import Turn
from core.errors import NotFoundError


class AgentReply(BaseModel):
    """What is stored with a reply a person wrote."""

    from_person: bool = True
    agent: str = ""
    escalation_id: str | None = None


Rating = Literal["up", "down"]


class Feedback(BaseModel):
    """The customer's rating of an assistant reply (the latest: a new one replaces it)."""

    rating: Rating
    comment: str | None = None
    # The case this feedback opened (a thumbs-down on an answer) or was added to (a reply that
    # had already been handed over).
    escalation_id: str | None = None
    created_at: datetime
    updated_at: datetime


class StoredMessage(BaseModel):
    """A message as stored. Its ``meta`` is written and read only through the typed views below:
    the trace of an assistant's reply, who wrote an agent's reply, the kinds of personal data
    redacted from a customer's message."""

    id: str
    role: str
    text: str
    created_at: datetime
    meta: dict[str, Any]
    # The customer's rating, for an assistant reply that has one (loaded with the conversation).
    feedback: Feedback | None = None

    @property
    def turn(self) -> Turn | None:
        """The message as a turn of the conversation (None for a role that is not one)."""
        if self.role not in ("customer", "assistant", "agent"):
            return None
        return Turn.model_validate({"role": self.role, "text": self.text})

    @property
    def trace(self) -> ReplyTrace | None:
        return ReplyTrace.read(self.meta) if self.role == "assistant" else None

    @property
    def agent_reply(self) -> AgentReply | None:
        return AgentReply.model_validate(self.meta) if self.role == "agent" else None

    @property
    def pii(self) -> list[str]:
        return [str(kind) for kind in self.meta.get("pii", [])]


class StoredConversation(BaseModel):
    id: str
    customer_ref: str | None
    owner: str | None
    # The id of the customer key that opened it: the one key (besides staff) that may read it.
    owner_key_id: str | None = None
    created_at: datetime
    messages: list[StoredMessage]


class ConversationStore:
    def __init__(self, sessions: Sessions) -> None:
        self._db = sessions

    def create(
        self,
        *,
        customer_ref: str | None = None,
        owner: str | None = None,
        owner_key_id: str | None = None,
    ) -> StoredConversation:
        with self._db.session() as session:
            row = ConversationRow(customer_ref=customer_ref, owner=owner, owner_key_id=owner_key_id)
            session.add(row)
            session.flush()
            return StoredConversation(
                id=row.id,
                customer_ref=row.customer_ref,
                owner=row.owner,
                owner_key_id=row.owner_key_id,
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
            ratings = {
                f.message_id: to_feedback(f)
                for f in session.scalars(
                    select(FeedbackRow).where(FeedbackRow.conversation_id == conversation_id)
                )
            }
            return StoredConversation(
                id=row.id,
                customer_ref=row.customer_ref,
                owner=row.owner,
                owner_key_id=row.owner_key_id,
                created_at=row.created_at,
                messages=[to_message(m, ratings.get(m.id)) for m in messages],
            )

    def unanswered(self, before: datetime) -> list[tuple[str, StoredMessage]]:
        """Customer messages written before ``before`` that are still the last message of their
        conversation (nothing answered them), with their conversation's id, oldest first."""
        last = (
            select(MessageRow.conversation_id, func.max(MessageRow.seq).label("seq"))
            .group_by(MessageRow.conversation_id)
            .subquery()
        )
        with self._db.session() as session:
            rows = session.scalars(
                select(MessageRow)
                .join(
                    last,
                    (MessageRow.conversation_id == last.c.conversation_id)
                    & (MessageRow.seq == last.c.seq),
                )
                .where(MessageRow.role == "customer", MessageRow.created_at < before)
                .order_by(MessageRow.created_at)
            ).all()
            return [(row.conversation_id, to_message(row)) for row in rows]

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


# Messages appended to one conversation at once race for the next seq; the unique index on
# (conversation_id, seq) lets exactly one win each number and the others try the next one.
SEQ_ATTEMPTS = 50


def add_message(
    session: Session,
    conversation_id: str,
    *,
    role: str,
    text: str,
    meta: dict[str, Any] | None,
    at: datetime | None = None,
) -> StoredMessage:
    """Append a message inside a caller's transaction (the queue delivers replies this way).

    Only the insert runs in a savepoint, so losing the race for a seq rolls back the insert,
    never the caller's transaction. (The read stays outside it: on SQLite a savepoint opened
    before the read would pin an old snapshot and fail as "database is locked" at the write.)
    """
    if session.get(ConversationRow, conversation_id) is None:
        raise NotFoundError(f"conversation {conversation_id} not found")
    created_at = at or utcnow()
    for attempt in range(SEQ_ATTEMPTS):
        last = session.scalar(
            select(func.max(MessageRow.seq)).where(MessageRow.conversation_id == conversation_id)
        )
        row = MessageRow(
            conversation_id=conversation_id,
            seq=(last or 0) + 1,
            role=role,
            text=text,
            meta=meta or {},
            created_at=created_at,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            if attempt == SEQ_ATTEMPTS - 1:
                raise
            continue
        return to_message(row)
    raise AssertionError("unreachable")  # pragma: no cover


def to_message(row: MessageRow, feedback: Feedback | None = None) -> StoredMessage:
    return StoredMessage(
        id=row.id,
        role=row.role,
        text=row.text,
        created_at=row.created_at,
        meta=row.meta,
        feedback=feedback,
    )


def to_feedback(row: FeedbackRow) -> Feedback:
    return Feedback.model_validate(row, from_attributes=True)
