"""Conversations, messages and escalation records in a SQL database (SQLite file by default).

SQLAlchemy 2 keeps the same code working on PostgreSQL by URL. The customer's message is written
before any model runs, so a failure later on loses nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import JSON, ForeignKey, String, Text, create_engine, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from assistant.errors import DatabaseError, NotFoundError


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class ConversationRow(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    customer_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=_now)


class MessageRow(Base):
    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EscalationRow(Base):
    __tablename__ = "escalations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    tier: Mapped[int] = mapped_column(default=0)
    issue_type: Mapped[str] = mapped_column(String(64), default="unknown")
    core_issue: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[list[Any]] = mapped_column(default=list)
    verdict: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=_now)


class StoredMessage(BaseModel):
    id: str
    role: str
    text: str
    created_at: datetime
    meta: dict[str, Any]


class StoredConversation(BaseModel):
    id: str
    customer_ref: str | None
    created_at: datetime
    messages: list[StoredMessage]


class EscalationRecord(BaseModel):
    id: str
    conversation_id: str
    message_id: str
    status: str
    reasons: list[str]
    tier: int
    issue_type: str
    core_issue: str
    transcript: list[dict[str, Any]]
    verdict: dict[str, Any]
    evidence: dict[str, Any]
    created_at: datetime


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


class ConversationStore:
    """The database seam. Every SQLAlchemy failure becomes a :class:`DatabaseError`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def connect(cls, url: str) -> ConversationStore:
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if url.startswith("sqlite"):
            memory = ":memory:" in url or url in ("sqlite://", "sqlite:///")
            engine = create_engine(
                url,
                connect_args={"check_same_thread": False},
                poolclass=StaticPool if memory else None,
            )
            _sqlite_pragmas(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        store = cls(engine)
        store.create_schema()
        return store

    def create_schema(self) -> None:
        with self._guard():
            Base.metadata.create_all(self.engine)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise DatabaseError(f"database failed: {exc.__class__.__name__}: {exc}") from exc

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._guard(), self._sessions.begin() as session:
            yield session

    def is_ready(self) -> bool:
        try:
            with self._session() as session:
                session.execute(text("SELECT 1"))
        except DatabaseError:
            return False
        return True

    def create_conversation(self, *, customer_ref: str | None = None) -> StoredConversation:
        with self._session() as session:
            row = ConversationRow(customer_ref=customer_ref)
            session.add(row)
            session.flush()
            return StoredConversation(
                id=row.id, customer_ref=row.customer_ref, created_at=row.created_at, messages=[]
            )

    def get_conversation(self, conversation_id: str) -> StoredConversation:
        with self._session() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                raise NotFoundError(f"conversation {conversation_id} not found")
            messages = session.scalars(
                select(MessageRow)
                .where(MessageRow.conversation_id == conversation_id)
                .order_by(MessageRow.created_at, MessageRow.id)
            ).all()
            return StoredConversation(
                id=row.id,
                customer_ref=row.customer_ref,
                created_at=row.created_at,
                messages=[_message(m) for m in messages],
            )

    def add_message(
        self, conversation_id: str, *, role: str, text: str, meta: dict[str, Any] | None = None
    ) -> StoredMessage:
        with self._session() as session:
            if session.get(ConversationRow, conversation_id) is None:
                raise NotFoundError(f"conversation {conversation_id} not found")
            row = MessageRow(conversation_id=conversation_id, role=role, text=text, meta=meta or {})
            session.add(row)
            session.flush()
            return _message(row)

    def add_escalation(
        self,
        *,
        conversation_id: str,
        message_id: str,
        reasons: list[str],
        tier: int,
        issue_type: str,
        core_issue: str,
        transcript: list[dict[str, Any]],
        verdict: dict[str, Any],
        evidence: dict[str, Any],
    ) -> EscalationRecord:
        with self._session() as session:
            row = EscalationRow(
                conversation_id=conversation_id,
                message_id=message_id,
                reasons=reasons,
                tier=tier,
                issue_type=issue_type,
                core_issue=core_issue,
                transcript=transcript,
                verdict=verdict,
                evidence=evidence,
            )
            session.add(row)
            session.flush()
            return _record(row)

    def get_escalation(self, escalation_id: str) -> EscalationRecord:
        with self._session() as session:
            row = session.get(EscalationRow, escalation_id)
            if row is None:
                raise NotFoundError(f"escalation {escalation_id} not found")
            return _record(row)

    def list_escalations(self, *, status: str | None = None) -> list[EscalationRecord]:
        with self._session() as session:
            query = select(EscalationRow).order_by(EscalationRow.created_at)
            if status is not None:
                query = query.where(EscalationRow.status == status)
            return [_record(row) for row in session.scalars(query)]


def _message(row: MessageRow) -> StoredMessage:
    return StoredMessage(
        id=row.id, role=row.role, text=row.text, created_at=row.created_at, meta=row.meta
    )


def _record(row: EscalationRow) -> EscalationRecord:
    return EscalationRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        message_id=row.message_id,
        status=row.status,
        reasons=[str(r) for r in row.reasons],
        tier=row.tier,
        issue_type=row.issue_type,
        core_issue=row.core_issue,
        transcript=list(row.transcript),
        verdict=dict(row.verdict),
        evidence=dict(row.evidence),
        created_at=row.created_at,
    )
