"""The database schema, one class per table. Alembic migrations under ``migrations/`` create it;
a test compares the two so they never drift apart."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC on every backend, always read back as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UTCDateTime,
    }


class ConversationRow(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    customer_ref: Mapped[str | None] = mapped_column(String(200))
    # The name of the customer key that opened it (for people to read); None when opened by
    # staff. Access is checked by ``owner_key_id``: a second key made with the same name does
    # not read the first one's conversations.
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    owner_key_id: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageRow(Base):
    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    # 1, 2, 3... within the conversation (unique: two messages written at once cannot share
    # one); orders messages written in the same clock tick.
    seq: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ux_messages_conversation_seq", "conversation_id", "seq", unique=True),)


class EscalationRow(Base):
    __tablename__ = "escalations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(16))
    priority_rank: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column()
    assignee: Mapped[str | None] = mapped_column(String(100))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    tier: Mapped[int] = mapped_column(default=0)
    issue_type: Mapped[str] = mapped_column(String(64), default="unknown")
    core_issue: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[list[Any]] = mapped_column(default=list)
    verdict: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resolution: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # What the resolving reply did with the withheld draft: unchanged, edited, replaced (None:
    # no draft, or not resolved). A column, so the dashboard counts it on any backend.
    draft_use: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_escalations_queue", "status", "priority_rank", "created_at"),)


class EscalationReasonRow(Base):
    """One row per reason code, so the queue filters and counts by reason on any backend."""

    __tablename__ = "escalation_reasons"
    escalation_id: Mapped[str] = mapped_column(ForeignKey("escalations.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class EscalationEventRow(Base):
    """The audit trail: every action on a case, who did it and when. Notes are events too."""

    __tablename__ = "escalation_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    escalation_id: Mapped[str] = mapped_column(ForeignKey("escalations.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # The principal the key speaks for (an agent's name, a customer client's name).
    name: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the key: keys are 256 random bits, so a slow hash adds nothing.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class ConsoleSessionRow(Base):
    """A console login: the cookie holds a random token, stored here only as its SHA-256. It
    ends at ``expires_at``, at logout (``revoked_at``), and when its key is revoked."""

    __tablename__ = "console_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column()


class KbGapRow(Base):
    __tablename__ = "kb_gaps"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    escalation_id: Mapped[str] = mapped_column(ForeignKey("escalations.id"), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    issue_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegressionCaseRow(Base):
    """A benchmark case written from a resolved escalation (format: core.cases.BenchmarkCase)."""

    __tablename__ = "regression_cases"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    escalation_id: Mapped[str] = mapped_column(ForeignKey("escalations.id"), index=True)
    case: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExposureRow(Base):
    """A unit's first sight of an experiment's variant (one row per unit and experiment)."""

    __tablename__ = "experiment_exposures"
    experiment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    variant: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class OutcomeRow(Base):
    """What happened to one message under an experiment's variant."""

    __tablename__ = "experiment_outcomes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    experiment_id: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str] = mapped_column(String(200))
    variant: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(32))
    escalated: Mapped[bool] = mapped_column()
    escalation_id: Mapped[str | None] = mapped_column(String(32))
    latency_ms: Mapped[float] = mapped_column(default=0.0)
    judge_score: Mapped[float | None] = mapped_column()
    # The assistant's reply to the message (its customer feedback is an outcome too); None in
    # rows written before migration 0005.
    reply_message_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackRow(Base):
    """A customer's thumbs up or down on one assistant reply, with an optional comment; a second
    rating of the same reply replaces the first. ``escalation_id``: the case the reply's
    feedback opened or was added to."""

    __tablename__ = "message_feedback"
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    escalation_id: Mapped[str | None] = mapped_column(ForeignKey("escalations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class QualityReviewRow(Base):
    """A sampled conversation's quality: the LLM judge's scores and, when an agent reviewed it,
    the agent's own (for calibrating the judge). Scores are per metric, 1-5."""

    __tablename__ = "quality_reviews"
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(32))
    sampled_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    judge_model: Mapped[str] = mapped_column(String(200))
    judge_scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    judge_rationales: Mapped[dict[str, Any]] = mapped_column(default=dict)
    human_scores: Mapped[dict[str, Any] | None] = mapped_column()
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column()


class DriftAlertRow(Base):
    __tablename__ = "drift_alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    feature: Mapped[str] = mapped_column(String(64))
    p_value: Mapped[float] = mapped_column()
    jsd: Mapped[float] = mapped_column()
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobLockRow(Base):
    """Who runs a job now (the monitor run, an ingest): a lease taken by one process, renewed
    while the job runs, deleted when it ends, and free for another to take once it expires (its
    holder died). A row exists only while someone holds it."""

    __tablename__ = "job_locks"
    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
