"""Wire schemas of the chat API, kept apart from storage rows and pipeline models.

Every request body is a :class:`RequestModel`: text no database can store (a lone surrogate,
which JSON's ``\\ud800`` escape can carry, or NUL) is replaced by U+FFFD as it arrives, so the
message is stored and answered rather than lost to an encoding error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from assistant.escalations.models import Evidence, Resolution
from assistant.storage.text import strip_space
from core.conversation import Turn
from guardrails.verdict import Verdict

REPLACEMENT = "\ufffd"
# A text of at least one character that is not white space (documented; the routes check it
# after stripping, with a message that names the text: assistant/api/limits.py).
NOT_BLANK = r"\S"


def scrub_text(text: str) -> str:
    """``text`` with each lone surrogate and NUL replaced by U+FFFD."""
    if "\x00" not in text:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return text
    return "".join(REPLACEMENT if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in text)


def scrub(value: Any) -> Any:
    """Every string in a decoded JSON value scrubbed (keys too)."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    return value


class RequestModel(BaseModel):
    """A request body: its strings are scrubbed before validation."""

    @model_validator(mode="before")
    @classmethod
    def _scrub(cls, data: Any) -> Any:
        return scrub(data)


class ConversationCreate(RequestModel):
    customer_ref: str | None = Field(default=None, max_length=200)


class MessageCreate(RequestModel):
    text: str = Field(
        min_length=1,
        description="The customer's message: not only white space (422), at most "
        "`TETHER_MAX_MESSAGE_CHARS` characters (413 beyond). Lone surrogates and NUL are "
        "stored as U+FFFD.",
        json_schema_extra={"pattern": NOT_BLANK},
    )


# A feedback comment longer than this is refused (422).
MAX_FEEDBACK_COMMENT_CHARS = 1000


class FeedbackCreate(RequestModel):
    rating: Literal["up", "down"] = Field(description="Thumbs up or thumbs down.")
    comment: str | None = Field(
        default=None,
        max_length=MAX_FEEDBACK_COMMENT_CHARS,
        description="What the customer says about the reply (optional; blank counts as none).",
    )

    @field_validator("comment")
    @classmethod
    def _blank_is_none(cls, comment: str | None) -> str | None:
        if comment is None:
            return None
        return strip_space(comment) or None


class RatingPublic(BaseModel):
    """A reply's rating as its message shows it."""

    rating: Literal["up", "down"]
    comment: str | None
    escalation_id: str | None = Field(
        description="The case this feedback opened (a thumbs-down on an answer) or joined (a "
        "reply that had been handed over to a person)."
    )
    created_at: datetime = Field(description="When the reply was first rated.")
    updated_at: datetime = Field(description="When the rating now held was given.")


class FeedbackPublic(RatingPublic):
    """The feedback stored for one reply (the latest: a new one replaces it)."""

    conversation_id: str
    message_id: str


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
    feedback: RatingPublic | None = Field(
        default=None, description="The customer's rating of an assistant reply, if any."
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
    detail: str = Field(description="What went wrong, for people.")
    errors: list[dict[str, Any]] = Field(default_factory=list)


class FieldErrorPublic(BaseModel):
    loc: list[str | int] = Field(description='Where: `["body", "text"]`, `["query", "limit"]`')
    msg: str
    type: str


class ValidationErrorPublic(BaseModel):
    """The 422 body: a summary in ``detail`` and each wrong field in ``errors`` (empty when a
    route refused a value itself, an empty text say)."""

    detail: str = Field(description="`malformed request: <where>: <what>; ...`, or the reason")
    errors: list[FieldErrorPublic] = Field(default_factory=list)


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


class ReturnRequest(RequestModel):
    note: str = Field(default="", description="Why it goes back (internal, optional).")


class NoteRequest(RequestModel):
    text: str = Field(
        description="An internal note, never shown to the customer.",
        json_schema_extra={"minLength": 1, "pattern": NOT_BLANK},
    )


class RegressionPublic(RequestModel):
    expect: Literal["answer", "escalate", "not_escalate"] = "answer"
    gold_article_ids: list[str] = Field(default_factory=list)
    issue_type: str | None = None
    tags: list[str] = Field(default_factory=list)


class ResolveRequest(RequestModel):
    reply: str = Field(
        description="The answer delivered into the customer's conversation.",
        json_schema_extra={"minLength": 1, "pattern": NOT_BLANK},
    )
    # Strict: the document says boolean, so 0 or "yes" is refused (422), not read as one.
    kb_gap: bool = Field(
        default=False, strict=True, description="The knowledge base lacked this answer."
    )
    regression: RegressionPublic | None = Field(
        default=None, description="Write this conversation as a benchmark case."
    )


class ResolvePublic(BaseModel):
    escalation: EscalationDetail
    reply: MessagePublic


# -- admin ------------------------------------------------------------------------------------


class KeyCreate(RequestModel):
    name: str = Field(
        min_length=1,
        max_length=100,
        description="The agent or client it speaks for; stored without surrounding white space.",
        json_schema_extra={"pattern": NOT_BLANK},
    )
    role: Literal["customer", "agent", "admin"]

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        name = strip_space(name)
        if not name:
            raise ValueError("the name is only white space")
        return name


class KeyPublic(BaseModel):
    id: str
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class KeyIssued(KeyPublic):
    key: str = Field(description="The secret: shown this once, stored only as a hash.")
