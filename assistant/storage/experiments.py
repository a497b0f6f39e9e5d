"""Experiment exposures and outcomes. An exposure is written once per unit and experiment; an
outcome per message. Analysis reads them back per variant."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from assistant.storage.conversations import Rating
from assistant.storage.engine import Sessions
from assistant.storage.tables import (
    EscalationRow,
    ExposureRow,
    FeedbackRow,
    OutcomeRow,
    RegressionCaseRow,
    utcnow,
)


class Outcome(BaseModel):
    unit_id: str
    variant: str
    conversation_id: str
    message_id: str
    escalated: bool
    escalation_id: str | None = None
    latency_ms: float = 0.0
    judge_score: float | None = None
    # The assistant's reply to the message (None in outcomes recorded before migration 0005).
    reply_message_id: str | None = None
    # Set at analysis time: an agent resolving the case said the assistant should have answered.
    false_escalation: bool = False
    # Set at analysis time: the customer's rating of the reply, if they gave one.
    rating: Rating | None = None
    at: datetime | None = None


class ExperimentStore:
    def __init__(self, sessions: Sessions) -> None:
        self._db = sessions

    def expose(self, experiment_id: str, unit_id: str, variant: str) -> None:
        """Record the unit's variant the first time it is seen (idempotent, race-free)."""
        values = {
            "experiment_id": experiment_id,
            "unit_id": unit_id,
            "variant": variant,
            "at": utcnow(),
        }
        insert = pg_insert if self._db.backend == "postgresql" else sqlite_insert
        with self._db.session() as session:
            session.execute(insert(ExposureRow).values(**values).on_conflict_do_nothing())

    def record(self, experiment_id: str, outcome: Outcome) -> None:
        with self._db.session() as session:
            session.add(
                OutcomeRow(
                    experiment_id=experiment_id,
                    **outcome.model_dump(exclude={"false_escalation", "rating", "at"}),
                    at=outcome.at or utcnow(),
                )
            )

    def exposures(self, experiment_id: str) -> dict[str, int]:
        with self._db.session() as session:
            rows = session.execute(
                select(ExposureRow.variant, func.count())
                .where(ExposureRow.experiment_id == experiment_id)
                .group_by(ExposureRow.variant)
            ).all()
            return {str(variant): int(count) for variant, count in rows}

    def outcomes(self, experiment_id: str) -> list[Outcome]:
        with self._db.session() as session:
            rows = session.scalars(
                select(OutcomeRow)
                .where(OutcomeRow.experiment_id == experiment_id)
                .order_by(OutcomeRow.id)
            ).all()
            # An escalation an agent resolved with a regression case that expects an answer
            # was a false escalation: the assistant should not have handed it over.
            escalation_ids = {r.escalation_id for r in rows if r.escalation_id}
            expects: dict[str, str] = {}
            if escalation_ids:
                for escalation_id, case in session.execute(
                    select(EscalationRow.id, RegressionCaseRow.case)
                    .join(RegressionCaseRow, RegressionCaseRow.escalation_id == EscalationRow.id)
                    .where(EscalationRow.id.in_(escalation_ids))
                ).all():
                    expects[str(escalation_id)] = str(case.get("expect", ""))
            # The customers' ratings of the replies, as outcomes too.
            ratings = dict(
                session.execute(
                    select(FeedbackRow.message_id, FeedbackRow.rating)
                    .join(OutcomeRow, OutcomeRow.reply_message_id == FeedbackRow.message_id)
                    .where(OutcomeRow.experiment_id == experiment_id)
                ).all()
            )
            return [
                Outcome.model_validate(r, from_attributes=True).model_copy(
                    update={
                        "false_escalation": bool(r.escalation_id)
                        and expects.get(r.escalation_id or "") in ("answer", "not_escalate"),
                        "rating": ratings.get(r.reply_message_id or ""),
                    }
                )
                for r in rows
            ]
