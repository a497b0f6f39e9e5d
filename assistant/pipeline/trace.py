"""The trace stored with every reply: what the message path did, read back by monitoring and the
console through this model, never by string key.

Rows written before the model existed (Tether up to migration 0003) load too: they kept the core
issue and the reasoning under a ``trace`` key; :meth:`ReplyTrace.read` lifts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from assistant.pipeline.reply import Citation, Reply
from guardrails.verdict import Verdict

# How many passages are kept with a reply for the quality monitor's judge.
KEPT_PASSAGES = 4


class PassageText(BaseModel):
    article_id: str
    text: str


class ReplyTrace(BaseModel):
    answered: bool
    citations: list[Citation] = Field(default_factory=list)
    issue_type: str = "unknown"
    confidence: float = 0.0
    verdict: Verdict
    latency_ms: dict[str, float] = Field(default_factory=dict)
    trace_id: str | None = None
    core_issue: str = ""
    reasoning: str = ""
    # The model's probability of declining instead, when its answer prompt lets it be read.
    decline_probability: float | None = None
    # The answer's similarity to the question and its confidence (guardrails/confidence.py).
    question_similarity: float | None = None
    answer_confidence: float | None = None
    # For the quality monitor: how close the best passage was, and what the model was given.
    retrieval_best: float | None = None
    passages: list[PassageText] = Field(default_factory=list)
    escalation_id: str | None = None
    # Experiment id -> the variant this reply was made under.
    experiments: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _lift_legacy(cls, data: Any) -> Any:
        """Rows before the model nested the core issue and reasoning under ``trace``."""
        if isinstance(data, Mapping) and isinstance(data.get("trace"), Mapping):
            legacy = data["trace"]
            data = {k: v for k, v in data.items() if k != "trace"}
            data.setdefault("core_issue", legacy.get("core_issue", ""))
            data.setdefault("reasoning", legacy.get("reasoning", ""))
        return data

    @classmethod
    def of(
        cls,
        reply: Reply,
        *,
        trace_id: str | None,
        escalation_id: str | None,
        experiments: Mapping[str, str],
    ) -> ReplyTrace:
        return cls(
            answered=reply.answered,
            citations=reply.citations,
            issue_type=reply.classification.issue_type,
            confidence=reply.classification.confidence,
            verdict=reply.verdict,
            latency_ms=reply.latency_ms,
            trace_id=trace_id,
            core_issue=reply.core_issue,
            reasoning=reply.reasoning,
            decline_probability=reply.decline_probability,
            question_similarity=reply.signals.question_similarity if reply.signals else None,
            answer_confidence=reply.answer_confidence,
            retrieval_best=reply.retrieval_best,
            passages=[
                PassageText(article_id=p.article_id, text=p.text)
                for p in reply.passages[:KEPT_PASSAGES]
            ],
            escalation_id=escalation_id,
            experiments=dict(experiments),
        )

    @classmethod
    def read(cls, meta: Mapping[str, Any]) -> ReplyTrace | None:
        """The trace in a stored reply's metadata; None for a message that has none (a reply
        written by an agent, or a row too damaged to read)."""
        if "verdict" not in meta:
            return None
        try:
            return cls.model_validate(meta)
        except ValidationError:
            return None
