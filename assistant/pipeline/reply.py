"""What the message path returns for one customer message, and the messages it may send."""

from __future__ import annotations

from pydantic import BaseModel, Field

from assistant.pipeline.classify import UNKNOWN, Classification
from core.languages import Language
from core.profile import sample_profile
from guardrails.confidence import AnswerSignals
from guardrails.planted import PlantedSentence
from guardrails.verdict import Verdict
from knowledge_base.articles import Passage


def __getattr__(name: str) -> str:
    """``HANDOFF_MESSAGE`` and ``DECLINE_MESSAGE``: the sample profile's English messages, for
    code and tests written before business profiles. The message path uses its profile's
    (:meth:`core.profile.Profile.messages_for`)."""
    messages = sample_profile().messages_for(Language.EN)
    if name == "HANDOFF_MESSAGE":
        return messages.handoff
    if name == "DECLINE_MESSAGE":
        return messages.decline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def unclassified() -> Classification:
    """The classification of a message the path stopped before classifying."""
    return Classification(issue_type=UNKNOWN, confidence=0.0, best_guess=UNKNOWN)


class Citation(BaseModel):
    article_id: str
    title: str


class Reply(BaseModel):
    """The outcome of one customer message. Only ``text`` and ``citations`` reach the customer."""

    text: str
    answered: bool
    citations: list[Citation] = Field(default_factory=list)
    core_issue: str
    classification: Classification
    verdict: Verdict
    withheld_answer: str | None = None
    reasoning: str = ""
    passages: list[Passage] = Field(default_factory=list)
    latency_ms: dict[str, float] = Field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # The customer's language when the detector was sure of it (the reply's messages are in it).
    language: Language | None = None
    # True when the message was out of scope and politely declined (no escalation).
    declined: bool = False
    # Kinds of personal data redacted from the conversation before any model saw it.
    pii_kinds: list[str] = Field(default_factory=list)
    # The answer sentences a streamed reply sent before its check ended (all of them when it
    # passed; those before the first held one when it did not).
    shown: list[str] = Field(default_factory=list)
    # Sentences of the retrieved passages removed as instructions to the assistant (planted in
    # an article), with their article and the cues that fired; never shown to the customer.
    planted: list[PlantedSentence] = Field(default_factory=list)
    # The model's probability of having declined to answer (an extractive prompt's "none"),
    # when its prompt lets it be read.
    decline_probability: float | None = None
    # What the hand-over read of the answer (guardrails/confidence.py) and the confidence it
    # gave, when the model's doubt could be read; the confidence only with a confidence model.
    signals: AnswerSignals | None = None
    answer_confidence: float | None = None

    @property
    def retrieval_best(self) -> float | None:
        """How similar the best passage the model was given is to the core issue."""
        return max((p.dense_score for p in self.passages), default=None)
