"""Customers' ratings of assistant replies: one row per reply, a new rating replaces the old.

The rating, the case it may open, and the case's audit event are written in one transaction
whose first statement is the upsert of the rating's row: two ratings of one reply sent at once
wait for each other there (SQLite's write lock, PostgreSQL's row lock), so they never open two
cases.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from assistant.escalations.models import Action, NewEscalation
from assistant.escalations.priority import PriorityAssignment
from assistant.storage.conversations import Feedback, Rating, to_feedback
from assistant.storage.engine import Sessions
from assistant.storage.escalations import add_case, add_event
from assistant.storage.tables import FeedbackRow, utcnow

# Who a feedback event in a case's audit trail is from.
CUSTOMER_ACTOR = "customer"


class NewFeedback(BaseModel):
    conversation_id: str
    message_id: str
    rating: Rating
    comment: str | None = None


class CaseToOpen(BaseModel):
    """The case a thumbs-down opens, unless the reply already has one."""

    new: NewEscalation
    priority: PriorityAssignment


class FeedbackRecord(Feedback):
    conversation_id: str
    message_id: str
    # True when this rating opened its case (not stored: a later rating joins it).
    opened_case: bool = False


class FeedbackStore:
    def __init__(self, sessions: Sessions) -> None:
        self._db = sessions

    def give(
        self,
        new: NewFeedback,
        *,
        existing_case: str | None = None,
        case: CaseToOpen | None = None,
        now: datetime | None = None,
    ) -> FeedbackRecord:
        """Store the rating (replacing any earlier one of the reply). When the reply is not
        tied to a case yet, it is tied to ``existing_case`` (the case its hand-off opened), or
        else ``case`` is opened when given. Every rating of a reply tied to a case is added to
        that case's audit trail."""
        now = now or utcnow()
        insert = pg_insert if self._db.backend == "postgresql" else sqlite_insert
        row_values = insert(FeedbackRow).values(
            **new.model_dump(), created_at=now, updated_at=now, escalation_id=None
        )
        upsert = row_values.on_conflict_do_update(
            index_elements=[FeedbackRow.message_id],
            set_={
                "rating": row_values.excluded.rating,
                "comment": row_values.excluded.comment,
                "updated_at": row_values.excluded.updated_at,
            },
        ).returning(FeedbackRow.escalation_id)
        with self._db.session() as session:
            linked = session.execute(upsert).scalar_one()
            opened = False
            if linked is None and (existing_case or case):
                if existing_case:
                    linked = existing_case
                elif case is not None:
                    linked = add_case(
                        session,
                        case.new,
                        level=case.priority.level,
                        rule=case.priority.rule,
                        now=now,
                    )
                    opened = True
                session.execute(
                    update(FeedbackRow)
                    .where(FeedbackRow.message_id == new.message_id)
                    .values(escalation_id=linked)
                )
            if linked is not None:
                add_event(
                    session,
                    linked,
                    CUSTOMER_ACTOR,
                    Action.CUSTOMER_FEEDBACK,
                    now,
                    message_id=new.message_id,
                    rating=new.rating,
                    comment=new.comment,
                )
            row = session.scalars(
                select(FeedbackRow)
                .where(FeedbackRow.message_id == new.message_id)
                .execution_options(populate_existing=True)
            ).one()
            return _record(row, opened=opened)

    def recent(self, *, since: datetime | None = None) -> list[FeedbackRecord]:
        """Ratings given or changed since ``since``, oldest first."""
        query = select(FeedbackRow).order_by(FeedbackRow.updated_at)
        if since is not None:
            query = query.where(FeedbackRow.updated_at >= since)
        with self._db.session() as session:
            return [_record(row) for row in session.scalars(query)]


def _record(row: FeedbackRow, *, opened: bool = False) -> FeedbackRecord:
    return FeedbackRecord(
        **to_feedback(row).model_dump(),
        conversation_id=row.conversation_id,
        message_id=row.message_id,
        opened_case=opened,
    )
