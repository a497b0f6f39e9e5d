"""The escalation queue in SQL. State changes are single conditional UPDATEs, so two agents
claiming the same case at once cannot both win, on SQLite or on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Select, and_, func, select, update
from sqlalchemy.orm import Session

from assistant.escalations.drafts import DraftComparison, DraftUse
from assistant.escalations.models import (
    CLAIMABLE,
    Action,
    DraftCounts,
    EscalationEvent,
    EscalationRecord,
    Evidence,
    KbGap,
    NewEscalation,
    QueueCounts,
    QueueFilter,
    QueuePage,
    Resolution,
    SortKey,
    Status,
)
from assistant.escalations.priority import PriorityLevel
from assistant.storage.conversations import AgentReply, StoredMessage, add_message
from assistant.storage.engine import Sessions
from assistant.storage.tables import (
    EscalationEventRow,
    EscalationReasonRow,
    EscalationRow,
    KbGapRow,
    RegressionCaseRow,
    utcnow,
)
from core.cases import BenchmarkCase
from core.conversation import Turn
from core.errors import ConflictError, ForbiddenError, NotFoundError
from guardrails.verdict import Verdict

SYSTEM_ACTOR = "tether"

_ORDER = {
    "priority": (EscalationRow.priority_rank, EscalationRow.created_at, EscalationRow.id),
    "oldest": (EscalationRow.created_at, EscalationRow.id),
    "newest": (EscalationRow.created_at.desc(), EscalationRow.id),
    "due": (EscalationRow.due_at, EscalationRow.id),
}


class EscalationStore:
    def __init__(self, sessions: Sessions) -> None:
        self._db = sessions

    # -- writing ---------------------------------------------------------------------------

    def add(
        self, new: NewEscalation, *, level: PriorityLevel, rule: str, now: datetime | None = None
    ) -> EscalationRecord:
        with self._db.session() as session:
            escalation_id = add_case(session, new, level=level, rule=rule, now=now or utcnow())
            return self._load(session, escalation_id)

    def claim(
        self, escalation_id: str, agent: str, now: datetime | None = None
    ) -> EscalationRecord:
        now = now or utcnow()
        with self._db.session() as session:
            won = _rowcount(
                session.execute(
                    update(EscalationRow)
                    .where(EscalationRow.id == escalation_id, EscalationRow.status.in_(CLAIMABLE))
                    .values(status=Status.CLAIMED, assignee=agent, updated_at=now)
                )
            )
            if won != 1:
                row = _get(session, escalation_id)
                who = f" by {row.assignee}" if row.status == Status.CLAIMED else ""
                raise ConflictError(f"escalation {escalation_id} is already {row.status}{who}")
            add_event(session, escalation_id, agent, Action.CLAIMED, now)
            return self._load(session, escalation_id)

    def give_back(
        self, escalation_id: str, agent: str, *, note: str = "", now: datetime | None = None
    ) -> EscalationRecord:
        """Return a claimed case to the queue (only its assignee may)."""
        now = now or utcnow()
        with self._db.session() as session:
            self._take_own(session, escalation_id, agent, Status.RETURNED, now, action="return")
            add_event(session, escalation_id, agent, Action.RETURNED, now, note=note)
            return self._load(session, escalation_id)

    def resolve(
        self,
        escalation_id: str,
        agent: str,
        *,
        reply: str,
        kb_gap: bool = False,
        regression_case: BenchmarkCase | None = None,
        draft: DraftComparison | None = None,
        now: datetime | None = None,
    ) -> tuple[EscalationRecord, StoredMessage]:
        """Close a case claimed by ``agent``: the reply goes into the customer's conversation,
        marked as from a person, in the same transaction as the status change. ``draft``: what
        the reply did with the withheld draft, kept with the resolution and in the audit
        trail."""
        now = now or utcnow()
        with self._db.session() as session:
            row = self._take_own(session, escalation_id, agent, Status.RESOLVED, now, "resolve")
            message = add_message(
                session,
                row.conversation_id,
                role="agent",
                text=reply,
                meta=AgentReply(agent=agent, escalation_id=escalation_id).model_dump(),
            )
            resolution = Resolution(
                reply_message_id=message.id,
                kb_gap=kb_gap,
                draft_use=draft.use if draft else None,
                draft_kept=draft.kept if draft else None,
            )
            row.draft_use = draft.use if draft else None
            if kb_gap:
                gap = KbGapRow(
                    escalation_id=escalation_id,
                    question=row.core_issue,
                    answer=reply,
                    issue_type=row.issue_type,
                    created_by=agent,
                    created_at=now,
                )
                session.add(gap)
                session.flush()
                resolution.kb_gap_id = gap.id
                add_event(session, escalation_id, agent, Action.KB_GAP, now, kb_gap_id=gap.id)
            if regression_case is not None:
                session.add(
                    RegressionCaseRow(
                        id=regression_case.id,
                        escalation_id=escalation_id,
                        case=regression_case.model_dump(mode="json"),
                        created_by=agent,
                        created_at=now,
                    )
                )
                resolution.regression_case_id = regression_case.id
                add_event(
                    session,
                    escalation_id,
                    agent,
                    Action.REGRESSION_CASE,
                    now,
                    case_id=regression_case.id,
                )
            row.resolution = resolution.model_dump(mode="json", exclude_none=True)
            # The audit trail says what the reply did with the draft (nothing without one).
            drafted = {} if draft is None else {"draft": draft.use, "kept": draft.kept}
            add_event(
                session,
                escalation_id,
                agent,
                Action.RESOLVED,
                now,
                message_id=message.id,
                **drafted,
            )
            return self._load(session, escalation_id), message

    def add_note(
        self, escalation_id: str, actor: str, text: str, now: datetime | None = None
    ) -> EscalationRecord:
        """An internal note: kept in the audit trail, never shown to the customer."""
        now = now or utcnow()
        with self._db.session() as session:
            row = _get(session, escalation_id)
            row.updated_at = now
            add_event(session, escalation_id, actor, Action.NOTE, now, text=text)
            return self._load(session, escalation_id)

    def _take_own(
        self,
        session: Session,
        escalation_id: str,
        agent: str,
        to: Status,
        now: datetime,
        action: str,
    ) -> EscalationRow:
        changed = _rowcount(
            session.execute(
                update(EscalationRow)
                .where(
                    EscalationRow.id == escalation_id,
                    EscalationRow.status == Status.CLAIMED,
                    EscalationRow.assignee == agent,
                )
                .values(
                    status=to,
                    assignee=agent if to == Status.RESOLVED else None,
                    updated_at=now,
                )
            )
        )
        row = _get(session, escalation_id)
        if changed != 1:
            if row.status == Status.CLAIMED:
                raise ForbiddenError(
                    f"escalation {escalation_id} is claimed by {row.assignee}; only they can "
                    f"{action} it"
                )
            raise ConflictError(
                f"escalation {escalation_id} is {row.status}; claim it before you {action} it"
            )
        session.refresh(row)
        return row

    # -- reading ---------------------------------------------------------------------------

    def get(self, escalation_id: str) -> EscalationRecord:
        with self._db.session() as session:
            return self._load(session, escalation_id)

    def page(
        self,
        query: QueueFilter | None = None,
        *,
        sort: SortKey = "priority",
        limit: int = 50,
        offset: int = 0,
        now: datetime | None = None,
    ) -> QueuePage:
        query = query or QueueFilter()
        conditions = _conditions(query, now or utcnow())
        with self._db.session() as session:
            total = session.scalar(
                select(func.count()).select_from(EscalationRow).where(*conditions)
            )
            rows = session.scalars(
                select(EscalationRow)
                .where(*conditions)
                .order_by(*_ORDER[sort])
                .limit(limit)
                .offset(offset)
            ).all()
            return QueuePage(
                items=[_record(r, []) for r in rows], total=total or 0, limit=limit, offset=offset
            )

    def counts(self, now: datetime | None = None) -> QueueCounts:
        now = now or utcnow()
        waiting = EscalationRow.status.in_(CLAIMABLE)
        with self._db.session() as session:
            by_status = dict(
                session.execute(
                    select(EscalationRow.status, func.count()).group_by(EscalationRow.status)
                ).all()
            )
            by_reason = dict(
                session.execute(
                    select(EscalationReasonRow.reason, func.count())
                    .join(EscalationRow)
                    .where(EscalationRow.status != Status.RESOLVED)
                    .group_by(EscalationReasonRow.reason)
                ).all()
            )
            by_priority = dict(
                session.execute(
                    select(EscalationRow.priority, func.count())
                    .where(EscalationRow.status != Status.RESOLVED)
                    .group_by(EscalationRow.priority)
                ).all()
            )
            by_issue_type = dict(
                session.execute(
                    select(EscalationRow.issue_type, func.count())
                    .where(EscalationRow.status != Status.RESOLVED)
                    .group_by(EscalationRow.issue_type)
                ).all()
            )
            n_waiting = session.scalar(select(func.count()).where(waiting)) or 0
            overdue = (
                session.scalar(
                    select(func.count()).where(
                        EscalationRow.status != Status.RESOLVED, EscalationRow.due_at < now
                    )
                )
                or 0
            )
            oldest = session.scalar(select(func.min(EscalationRow.created_at)).where(waiting))
        return QueueCounts(
            by_status={str(k): int(v) for k, v in by_status.items()},
            by_reason={str(k): int(v) for k, v in by_reason.items()},
            by_priority={str(k): int(v) for k, v in by_priority.items()},
            by_issue_type={str(k): int(v) for k, v in by_issue_type.items()},
            waiting=n_waiting,
            overdue=overdue,
            oldest_waiting_minutes=None
            if oldest is None
            else round((now - oldest).total_seconds() / 60.0, 1),
        )

    def draft_counts(self, *, since: datetime | None = None) -> DraftCounts:
        """Cases resolved since ``since`` by what the reply did with the withheld draft."""
        query = select(EscalationRow.draft_use, func.count()).where(
            EscalationRow.status == Status.RESOLVED
        )
        if since is not None:
            query = query.where(EscalationRow.updated_at >= since)
        with self._db.session() as session:
            rows = session.execute(query.group_by(EscalationRow.draft_use)).all()
            found = {use: int(n) for use, n in rows}
        return DraftCounts(
            unchanged=found.get(DraftUse.UNCHANGED, 0),
            edited=found.get(DraftUse.EDITED, 0),
            replaced=found.get(DraftUse.REPLACED, 0),
            no_draft=found.get(None, 0),
        )

    def kb_gaps(self, status: str | None = "open") -> list[KbGap]:
        with self._db.session() as session:
            query = select(KbGapRow).order_by(KbGapRow.created_at)
            if status is not None:
                query = query.where(KbGapRow.status == status)
            return [KbGap.model_validate(g, from_attributes=True) for g in session.scalars(query)]

    def close_gaps(self, escalation_ids: list[str], status: str = "accepted") -> int:
        """Mark the KB-gap items of these escalations (an article now answers them)."""
        if not escalation_ids:
            return 0
        with self._db.session() as session:
            return _rowcount(
                session.execute(
                    update(KbGapRow)
                    .where(KbGapRow.escalation_id.in_(escalation_ids), KbGapRow.status == "open")
                    .values(status=status)
                )
            )

    def regression_cases(self) -> list[BenchmarkCase]:
        with self._db.session() as session:
            rows = session.scalars(select(RegressionCaseRow).order_by(RegressionCaseRow.created_at))
            return [BenchmarkCase.model_validate(r.case) for r in rows]

    def _load(self, session: Session, escalation_id: str) -> EscalationRecord:
        row = _get(session, escalation_id)
        events = session.scalars(
            select(EscalationEventRow)
            .where(EscalationEventRow.escalation_id == escalation_id)
            .order_by(EscalationEventRow.id)
        ).all()
        return _record(row, list(events))


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _get(session: Session, escalation_id: str) -> EscalationRow:
    row = session.get(EscalationRow, escalation_id)
    if row is None:
        raise NotFoundError(f"escalation {escalation_id} not found")
    return row


def add_case(
    session: Session, new: NewEscalation, *, level: PriorityLevel, rule: str, now: datetime
) -> str:
    """Queue a case inside a caller's transaction (customer feedback opens one this way);
    returns its id."""
    row = EscalationRow(
        conversation_id=new.conversation_id,
        message_id=new.message_id,
        status=Status.OPEN,
        priority=level.name,
        priority_rank=level.rank,
        due_at=level.due(now),
        reasons=list(new.reasons),
        tier=new.tier,
        issue_type=new.issue_type,
        core_issue=new.core_issue,
        transcript=[t.model_dump() for t in new.transcript],
        verdict=new.verdict.model_dump(mode="json"),
        evidence=new.evidence.model_dump(mode="json", exclude_none=True),
        resolution={},
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    for reason in dict.fromkeys(new.reasons):
        session.add(EscalationReasonRow(escalation_id=row.id, reason=reason))
    add_event(session, row.id, SYSTEM_ACTOR, Action.CREATED, now, priority_rule=rule)
    return row.id


def add_event(
    session: Session,
    escalation_id: str,
    actor: str,
    action: Action,
    at: datetime,
    **detail: Any,
) -> None:
    session.add(
        EscalationEventRow(
            escalation_id=escalation_id, actor=actor, action=action, at=at, detail=detail
        )
    )


def _conditions(query: QueueFilter, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.status:
        conditions.append(EscalationRow.status.in_(query.status))
    if query.reason:
        has_reason: Select[Any] = select(EscalationReasonRow.escalation_id).where(
            EscalationReasonRow.reason == query.reason
        )
        conditions.append(EscalationRow.id.in_(has_reason))
    if query.issue_type:
        conditions.append(EscalationRow.issue_type == query.issue_type)
    if query.priority:
        conditions.append(EscalationRow.priority == query.priority)
    if query.assignee:
        conditions.append(EscalationRow.assignee == query.assignee)
    if query.min_age_minutes is not None:
        conditions.append(
            EscalationRow.created_at <= now - timedelta(minutes=query.min_age_minutes)
        )
    if query.max_age_minutes is not None:
        conditions.append(
            EscalationRow.created_at >= now - timedelta(minutes=query.max_age_minutes)
        )
    return conditions or [and_(True)]


def _record(row: EscalationRow, events: list[EscalationEventRow]) -> EscalationRecord:
    return EscalationRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        message_id=row.message_id,
        status=Status(row.status),
        priority=row.priority,
        priority_rank=row.priority_rank,
        due_at=row.due_at,
        assignee=row.assignee,
        reasons=[str(r) for r in row.reasons],
        tier=row.tier,
        issue_type=row.issue_type,
        core_issue=row.core_issue,
        transcript=[Turn.model_validate(t) for t in row.transcript],
        verdict=Verdict.model_validate(row.verdict),
        evidence=Evidence.model_validate(row.evidence),
        resolution=Resolution.model_validate(row.resolution),
        created_at=row.created_at,
        updated_at=row.updated_at,
        events=[
            EscalationEvent(at=e.at, actor=e.actor, action=e.action, detail=dict(e.detail))
            for e in events
        ],
    )
