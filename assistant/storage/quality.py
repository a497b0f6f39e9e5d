"""Quality reviews of sampled conversations (judge and human scores) and drift alerts."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select

from assistant.pipeline.trace import ReplyTrace
from assistant.storage.engine import Sessions
from assistant.storage.tables import (
    ConversationRow,
    DriftAlertRow,
    MessageRow,
    QualityReviewRow,
    utcnow,
)
from core.errors import ConflictError, NotFoundError

log = logging.getLogger(__name__)


class QualityReview(BaseModel):
    conversation_id: str
    message_id: str
    sampled_at: datetime
    judge_model: str
    judge_scores: dict[str, int]
    judge_rationales: dict[str, str]
    human_scores: dict[str, int] | None
    reviewed_by: str | None
    reviewed_at: datetime | None


class DriftAlert(BaseModel):
    at: datetime
    feature: str
    p_value: float
    jsd: float
    detail: dict[str, Any]


class ReplyRecord(BaseModel):
    """An assistant reply, as the monitor reads it: when, and the trace of the message path."""

    conversation_id: str
    message_id: str
    created_at: datetime
    trace: ReplyTrace


class QualityStore:
    def __init__(self, sessions: Sessions) -> None:
        self._db = sessions

    def finished_unreviewed(
        self, *, before: datetime, after: datetime | None = None, limit: int = 1000
    ) -> list[str]:
        """Conversations whose last message is older than ``before`` (and newer than ``after``)
        and that have no review yet, most recently finished first: conversations the sampler
        passed over are looked at again, but never crowd out newer ones."""
        with self._db.session() as session:
            last = (
                select(MessageRow.conversation_id, func.max(MessageRow.created_at).label("last"))
                .group_by(MessageRow.conversation_id)
                .subquery()
            )
            rows = session.execute(
                select(ConversationRow.id)
                .join(last, last.c.conversation_id == ConversationRow.id)
                .outerjoin(QualityReviewRow, QualityReviewRow.conversation_id == ConversationRow.id)
                .where(
                    last.c.last < before,
                    last.c.last >= (after or datetime.min.replace(tzinfo=before.tzinfo)),
                    QualityReviewRow.conversation_id.is_(None),
                )
                .order_by(last.c.last.desc())
                .limit(limit)
            ).all()
            return [str(r[0]) for r in rows]

    def save_judgement(
        self,
        conversation_id: str,
        message_id: str,
        *,
        model: str,
        scores: dict[str, int],
        rationales: dict[str, str],
        at: datetime | None = None,
    ) -> None:
        with self._db.session() as session:
            session.merge(
                QualityReviewRow(
                    conversation_id=conversation_id,
                    message_id=message_id,
                    sampled_at=at or utcnow(),
                    judge_model=model,
                    judge_scores=scores,
                    judge_rationales=rationales,
                )
            )

    def save_human(self, conversation_id: str, reviewer: str, scores: dict[str, int]) -> None:
        with self._db.session() as session:
            row = session.get(QualityReviewRow, conversation_id)
            if row is None:
                raise NotFoundError(f"conversation {conversation_id} was not sampled for review")
            if row.human_scores is not None:
                raise ConflictError(
                    f"conversation {conversation_id} was already reviewed by {row.reviewed_by}"
                )
            row.human_scores = scores
            row.reviewed_by = reviewer
            row.reviewed_at = utcnow()

    def reviews(self, *, since: datetime | None = None) -> list[QualityReview]:
        with self._db.session() as session:
            query = select(QualityReviewRow).order_by(QualityReviewRow.sampled_at)
            if since is not None:
                query = query.where(QualityReviewRow.sampled_at >= since)
            return [
                QualityReview(
                    conversation_id=r.conversation_id,
                    message_id=r.message_id,
                    sampled_at=r.sampled_at,
                    judge_model=r.judge_model,
                    judge_scores=dict(r.judge_scores),
                    judge_rationales=dict(r.judge_rationales),
                    human_scores=None if r.human_scores is None else dict(r.human_scores),
                    reviewed_by=r.reviewed_by,
                    reviewed_at=r.reviewed_at,
                )
                for r in session.scalars(query)
            ]

    def replies(self, *, since: datetime, until: datetime | None = None) -> list[ReplyRecord]:
        """The assistant's replies in a time window, oldest first."""
        with self._db.session() as session:
            query = select(MessageRow).where(
                MessageRow.role == "assistant", MessageRow.created_at >= since
            )
            if until is not None:
                query = query.where(MessageRow.created_at < until)
            rows = session.scalars(query.order_by(MessageRow.created_at)).all()
        records = []
        for row in rows:
            trace = ReplyTrace.read(row.meta)
            if trace is None:
                log.warning("reply without a readable trace", extra={"message_id": row.id})
                continue
            records.append(
                ReplyRecord(
                    conversation_id=row.conversation_id,
                    message_id=row.id,
                    created_at=row.created_at,
                    trace=trace,
                )
            )
        return records

    def add_alert(self, alert: DriftAlert) -> None:
        with self._db.session() as session:
            session.add(DriftAlertRow(**alert.model_dump()))

    def alerts(self, *, limit: int = 20) -> list[DriftAlert]:
        with self._db.session() as session:
            rows = session.scalars(
                select(DriftAlertRow).order_by(DriftAlertRow.at.desc()).limit(limit)
            )
            return [
                DriftAlert(
                    at=r.at, feature=r.feature, p_value=r.p_value, jsd=r.jsd, detail=r.detail
                )
                for r in rows
            ]
