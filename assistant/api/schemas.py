"""Wire schemas of the chat API, kept apart from storage rows and pipeline models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.escalations.models import Evidence, Resolution
from core.conversation import Turn
from guardrails.verdict import Verdict


class ConversationCreate(BaseModel):
    customer_ref: str | None = Field(default=None, max_length=200)


class MessageCreate(BaseModel):
    text: str = Field(description="The customer's message.")


class CitationPublic(BaseModel):
    article_id: str
    title: str


class FindingPublic(BaseModel):
    sentence: str
    score: float
    evidence: str
    evidence_article_id: str | None
    missing_facts: list[str]


class VerdictPublic(BaseModel):
    outcome: Literal["pass", "escalate"]
    reasons: list[str]
    tier: int


class MessagePublic(BaseModel):
    id: str
    role: str
    text: str
    created_at: datetime
    citations: list[CitationPublic] = Field(default_factory=list)
    from_person: bool = Field(
        default=False, description="True for a reply written by a support agent."
    )


class ConversationPublic(BaseModel):
    id: str
    customer_ref: str | None
    created_at: datetime
    messages: list[MessagePublic]


class ReplyPublic(BaseModel):
    conversation_id: str
    message_id: str
    reply: MessagePublic
    answered: bool
    citations: list[CitationPublic]
    issue_type: str
    confidence: float
    verdict: VerdictPublic
    escalation_id: str | None
    latency_ms: dict[str, float]


class ErrorPublic(BaseModel):
    detail: str
    errors: list[dict[str, Any]] = Field(default_factory=list)


# -- the escalation queue ---------------------------------------------------------------------


class EscalationSummary(BaseModel):
    id: str
    conversation_id: str
    status: str
    priority: str
    due_at: datetime
    overdue: bool
    age_minutes: float
    assignee: str | None
    reasons: list[str]
    tier: int
    issue_type: str
    core_issue: str
    created_at: datetime
    updated_at: datetime


class EventPublic(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class EscalationDetail(EscalationSummary):
    transcript: list[Turn]
    verdict: Verdict = Field(
        description="Deciding tier, reasons, flagged sentences with evidence, judge rationale."
    )
    evidence: Evidence = Field(
        description="The withheld answer, the model's reasoning and the retrieved passages."
    )
    resolution: Resolution
    events: list[EventPublic] = Field(description="The audit trail; notes are internal.")
    conversation: list[MessagePublic] = Field(
        description="The conversation as the customer sees it."
    )


class EscalationPage(BaseModel):
    items: list[EscalationSummary]
    total: int
    limit: int
    offset: int


class ReturnRequest(BaseModel):
    note: str = Field(default="", description="Why it goes back (internal, optional).")


class NoteRequest(BaseModel):
    text: str = Field(description="An internal note, never shown to the customer.")


class RegressionPublic(BaseModel):
    expect: Literal["answer", "escalate", "not_escalate"] = "answer"
    gold_article_ids: list[str] = Field(default_factory=list)
    issue_type: str | None = None
    tags: list[str] = Field(default_factory=list)


class ResolveRequest(BaseModel):
    reply: str = Field(description="The answer delivered into the customer's conversation.")
    kb_gap: bool = Field(default=False, description="The knowledge base lacked this answer.")
    regression: RegressionPublic | None = Field(
        default=None, description="Write this conversation as a benchmark case."
    )


class ResolvePublic(BaseModel):
    escalation: EscalationDetail
    reply: MessagePublic


# -- admin ------------------------------------------------------------------------------------


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Literal["customer", "agent", "admin"]


class KeyPublic(BaseModel):
    id: str
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class KeyIssued(KeyPublic):
    key: str = Field(description="The secret: shown this once, stored only as a hash.")
