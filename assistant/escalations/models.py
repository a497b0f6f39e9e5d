"""What the queue holds and returns: plain records, no database types."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.escalations.drafts import DraftUse
from core.conversation import Turn
from guardrails.verdict import Verdict


class Status(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    RETURNED = "returned"


# A case an agent can take: new, or handed back to the queue.
CLAIMABLE = (Status.OPEN, Status.RETURNED)


class Action(StrEnum):
    CREATED = "created"
    CLAIMED = "claimed"
    RETURNED = "returned"
    RESOLVED = "resolved"
    NOTE = "note"
    KB_GAP = "kb_gap"
    REGRESSION_CASE = "regression_case"
    # The customer rated a reply of the case's conversation (detail: rating, comment).
    CUSTOMER_FEEDBACK = "customer_feedback"


class EscalationEvent(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any] = Field(default_factory=dict)


class EvidencePassage(BaseModel):
    """A passage the model was given, as the agent sees it beside the withheld answer."""

    article_id: str
    title: str = ""
    section: str = ""
    text: str
    score: float = 0.0
    dense_score: float = 0.0


class Evidence(BaseModel):
    """What the agent needs to judge a withheld answer."""

    withheld_answer: str | None = None
    reasoning: str = ""
    passages: list[EvidencePassage] = Field(default_factory=list)
    # The customer's message before personal data was redacted (an agent may need it).
    original_message: str | None = None
    # The answer sentences a streamed reply showed the customer before its check stopped it.
    shown: list[str] = Field(default_factory=list)


class Resolution(BaseModel):
    reply_message_id: str | None = None
    kb_gap: bool = False
    kb_gap_id: str | None = None
    regression_case_id: str | None = None
    # What the agent's reply did with the withheld draft (None: there was no draft).
    draft_use: DraftUse | None = None
    # The share of the draft's words the reply kept (assistant/escalations/drafts.py).
    draft_kept: float | None = None


class DraftCounts(BaseModel):
    """Resolved cases by what the agent's reply did with the withheld draft."""

    unchanged: int = 0
    edited: int = 0
    replaced: int = 0
    no_draft: int = 0

    @property
    def with_draft(self) -> int:
        return self.unchanged + self.edited + self.replaced

    def share(self, use: DraftUse) -> float | None:
        """The share of resolutions with a draft that used it so; None without any."""
        count = {
            DraftUse.UNCHANGED: self.unchanged,
            DraftUse.EDITED: self.edited,
            DraftUse.REPLACED: self.replaced,
        }[use]
        return count / self.with_draft if self.with_draft else None


class NewEscalation(BaseModel):
    """What the message path hands to the queue when an answer is withheld."""

    conversation_id: str
    message_id: str
    # Reason codes (guardrails.verdict.ReasonCode), then those of compliance rules that fired.
    reasons: list[str]
    tier: int
    issue_type: str
    core_issue: str
    transcript: list[Turn]
    verdict: Verdict
    evidence: Evidence


class EscalationRecord(NewEscalation):
    """A case in the queue: what was handed over, and where it stands."""

    id: str
    status: Status
    priority: str
    priority_rank: int
    due_at: datetime
    assignee: str | None
    resolution: Resolution = Field(default_factory=Resolution)
    created_at: datetime
    updated_at: datetime
    events: list[EscalationEvent] = Field(default_factory=list)

    def age_minutes(self, now: datetime) -> float:
        return (now - self.created_at).total_seconds() / 60.0

    def overdue(self, now: datetime) -> bool:
        return self.status in (*CLAIMABLE, Status.CLAIMED) and now > self.due_at

    @property
    def notes(self) -> list[EscalationEvent]:
        return [e for e in self.events if e.action == Action.NOTE]


SortKey = Literal["priority", "oldest", "newest", "due"]


class QueueFilter(BaseModel):
    status: list[Status] = Field(default_factory=list)
    reason: str | None = None
    issue_type: str | None = None
    priority: str | None = None
    assignee: str | None = None
    min_age_minutes: float | None = Field(default=None, ge=0)
    max_age_minutes: float | None = Field(default=None, ge=0)


class QueuePage(BaseModel):
    items: list[EscalationRecord]
    total: int
    limit: int
    offset: int


class QueueCounts(BaseModel):
    by_status: dict[str, int]
    by_reason: dict[str, int]
    by_priority: dict[str, int]
    by_issue_type: dict[str, int]
    waiting: int
    overdue: int
    oldest_waiting_minutes: float | None


class KbGap(BaseModel):
    id: str
    escalation_id: str
    question: str
    answer: str
    issue_type: str
    status: str
    created_by: str
    created_at: datetime
