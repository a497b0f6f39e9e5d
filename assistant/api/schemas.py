"""Wire schemas of the chat API, kept apart from storage rows and pipeline models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


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
