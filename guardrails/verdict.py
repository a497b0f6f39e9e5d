"""Typed outcomes of the guardrails: a failed check returns a verdict, it never raises."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from guardrails.compliance import ComplianceFinding
from knowledge_base.articles import Passage


class ReasonCode(StrEnum):
    UNGROUNDED = "ungrounded"
    # A yes to the customer that a condition of the evidence refuses for the customer's own
    # quantity ("Yes, you get the fee back" when 12 minutes late is not "more than 20").
    CONTRADICTS_CONDITION = "contradicts_condition"
    UNSOURCED_CONTACT = "unsourced_contact"
    # A quote the answer relies on is no passage's own words (guardrails/quotes.py).
    MISQUOTED = "misquoted"
    OFF_QUESTION = "off_question"
    INCOHERENT = "incoherent"
    NON_COMPLIANT = "non_compliant"
    UNKNOWN_ISSUE = "unknown_issue"
    NO_RELEVANT_ARTICLES = "no_relevant_articles"
    MODEL_DECLINED = "model_declined"
    # An extractive answer the confidence model (guardrails/confidence.py) is not sure of: the
    # model might have declined, or its sentences are far from the question.
    LOW_CONFIDENCE = "low_confidence"
    MALFORMED_OUTPUT = "malformed_output"
    PROMPT_INJECTION = "prompt_injection"
    OUT_OF_SCOPE = "out_of_scope"
    LLM_ERROR = "llm_error"
    STORE_ERROR = "store_error"
    INTERNAL_ERROR = "internal_error"
    # Written in a language the business does not serve or the check cannot read
    # (guardrails/language.py): a person answers, and the customer is told in their language.
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    # Not a check: the customer rated an answer that had passed it thumbs-down.
    CUSTOMER_FEEDBACK = "customer_feedback"


class SentenceFinding(BaseModel):
    """How well one answer sentence is supported by its best evidence window.

    ``basis`` says what the sentence was held against: a passage window, the customer's own
    earlier words (``evidence_article_id`` is then None), or nothing because it claims nothing.
    """

    sentence: str
    score: float
    # The share of the sentence's content words found in the passages or the customer's words.
    coverage: float = 1.0
    # The sentence negates something ("not", "never") and its best evidence does not.
    unmatched_negation: bool = False
    # It opens with "Yes," or "No," answering the customer's question (the judge must decide).
    answers_question: bool = False
    evidence: str = ""
    evidence_article_id: str | None = None
    missing_facts: list[str] = Field(default_factory=list)
    supported: bool = True
    basis: Literal["passage", "conversation", "claimless"] = "passage"


class Tier1Result(BaseModel):
    findings: list[SentenceFinding]
    # What a judge reads of the passages: each claim's best windows (guardrails/tier1.py).
    judge_passages: list[Passage] = Field(default_factory=list)

    @property
    def flagged(self) -> list[SentenceFinding]:
        return [f for f in self.findings if not f.supported]

    @property
    def passed(self) -> bool:
        return not self.flagged


class JudgeCriterion(BaseModel):
    ok: bool
    rationale: str = ""


class JudgeVerdict(BaseModel):
    grounding: JudgeCriterion
    coherence: JudgeCriterion
    compliance: JudgeCriterion

    def failures(self) -> list[tuple[ReasonCode, str]]:
        """The reason code of each criterion the answer failed, with the judge's rationale."""
        criteria = [
            (ReasonCode.UNGROUNDED, self.grounding),
            (ReasonCode.INCOHERENT, self.coherence),
            (ReasonCode.NON_COMPLIANT, self.compliance),
        ]
        return [(code, criterion.rationale) for code, criterion in criteria if not criterion.ok]

    @property
    def reasons(self) -> list[ReasonCode]:
        return [code for code, _ in self.failures()]


class Verdict(BaseModel):
    """Pass, or escalate with reason codes, the deciding tier and the evidence.

    ``tier`` is 0 when the answer was never checked (the message path stopped before generation),
    1 when the cheap similarity check decided, 2 when the LLM judge did.
    """

    outcome: Literal["pass", "escalate"]
    reasons: list[ReasonCode] = Field(default_factory=list)
    tier: Literal[0, 1, 2] = 1
    flagged: list[SentenceFinding] = Field(default_factory=list)
    judge: JudgeVerdict | None = None
    # The grounding judge's probability that every claim is supported (when it was asked).
    grounding_probability: float | None = None
    # Compliance rules that fired on the answer (each with its own reason code).
    compliance: list[ComplianceFinding] = Field(default_factory=list)
    detail: str = ""
    # The articles of the passage windows tier 1 held the answer's sentences against.
    sources: list[str] = Field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """The reason codes, then the reason code of every compliance rule that fired."""
        return list(
            dict.fromkeys(
                [*(str(r) for r in self.reasons), *(c.reason_code for c in self.compliance)]
            )
        )

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    @classmethod
    def escalate(
        cls, *reasons: ReasonCode, tier: Literal[0, 1, 2] = 0, detail: str = ""
    ) -> Verdict:
        return cls(outcome="escalate", reasons=list(reasons), tier=tier, detail=detail)
