"""The cascade's decision, as one pure function of what was measured: :func:`decide`.

The message path (guardrails/cascade.py) measures an answer, asks a judge only when
:func:`judge_needed` says so, and decides; the calibration sweep (evals/groundedness.py)
measures each labelled case once, judge included, and decides under every candidate threshold.
Both call the same :func:`decide`, so what is calibrated is what runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from guardrails.calibration import Calibration
from guardrails.compliance import ComplianceFinding
from guardrails.conditions import ConditionFinding, contradictions
from guardrails.relevance import Relevance
from guardrails.verdict import JudgeVerdict, ReasonCode, SentenceFinding, Verdict


class JudgeSignal(BaseModel):
    """What the tier-2 judge said: the grounding judge's probability that every claim is
    supported, the rubric judge's verdict (when a compliance rule fired), or why it said
    nothing (``failure``: ``LLM_ERROR`` or ``MALFORMED_OUTPUT``)."""

    probability: float | None = None
    rubric: JudgeVerdict | None = None
    failure: ReasonCode | None = None
    detail: str = ""


class Signals(BaseModel):
    """Everything the decision reads about one answer."""

    # Tier 1's finding for each sentence (guardrails/tier1.py).
    findings: list[SentenceFinding]
    # Compliance rules that fired on the answer.
    compliance: list[ComplianceFinding] = Field(default_factory=list)
    # Quantities the answer states that no passage states and the customer did not say.
    unsupported_quantities: list[str] = Field(default_factory=list)
    # Each condition of the passages held against the customer's quantities, for every sentence
    # that says yes or no to the customer (guardrails/conditions.py).
    conditions: list[ConditionFinding] = Field(default_factory=list)
    # Links, e-mail addresses and phone numbers of the answer that no passage gives.
    unsourced_contacts: list[str] = Field(default_factory=list)
    # Quotes the answer relies on that are no passage's own words.
    misquoted: list[str] = Field(default_factory=list)
    # How well the answer and its evidence match the question (None: no question was given).
    relevance: Relevance | None = None
    judge: JudgeSignal | None = None


def supported(finding: SentenceFinding, similarity: float, coverage: float) -> bool:
    """Whether tier 1 passes the sentence at these thresholds: close enough to its best evidence
    and sharing enough of its words with the evidence (a sentence that claims nothing needs
    neither), no negation its evidence lacks, no yes/no to the customer's question, no fact
    missing from the evidence."""
    close = finding.score >= similarity and finding.coverage >= coverage
    return (
        (finding.basis == "claimless" or close)
        and not finding.unmatched_negation
        and not finding.answers_question
        and not finding.missing_facts
    )


def flagged(signals: Signals, calibration: Calibration) -> list[SentenceFinding]:
    return [
        f
        for f in signals.findings
        if not supported(f, calibration.similarity, calibration.coverage)
    ]


def _weakest(findings: Sequence[SentenceFinding]) -> SentenceFinding | None:
    """The flagged claim sharing the fewest words with the evidence (claimless ones aside)."""
    claims = [f for f in findings if f.basis != "claimless"]
    return min(claims, key=lambda f: f.coverage) if claims else None


def _hard_fail(signals: Signals, weak: Sequence[SentenceFinding], floor: float) -> str:
    """Why tier 1 fails the answer outright, or "" when a judge should decide."""
    if signals.unsupported_quantities:
        quantities = ", ".join(signals.unsupported_quantities)
        return f"fact check: {quantities} in no passage, not said by the customer"
    weakest = _weakest(weak)
    if weakest is not None and weakest.coverage < floor:
        return (
            f"word check: {weakest.coverage:.0%} of the words of {weakest.sentence!r} are in the"
            f" passages or the customer's words (below {floor:.0%})"
        )
    return ""


def _refusal(signals: Signals, calibration: Calibration) -> tuple[ReasonCode, str] | None:
    """Why tier 1 refuses the answer whatever its sentences' support: its yes contradicts a
    condition for the customer, it gives a contact no passage gives, it relies on a quote no
    passage holds, or it is about something other than the question."""
    refused = contradictions(signals.conditions)
    if refused:
        conditions = "; ".join(f.describe() for f in refused)
        detail = f"condition check: the answer tells the customer yes, but {conditions}"
        return ReasonCode.CONTRADICTS_CONDITION, detail
    if signals.unsourced_contacts:
        contacts = ", ".join(signals.unsourced_contacts)
        return ReasonCode.UNSOURCED_CONTACT, f"contact check: {contacts} in no passage"
    if signals.misquoted:
        quoted = "; ".join(repr(q) for q in signals.misquoted)
        return ReasonCode.MISQUOTED, f"quote check: {quoted} is in no passage, word for word"
    return _off_question(signals.relevance, calibration)


def _off_question(
    relevance: Relevance | None, calibration: Calibration
) -> tuple[ReasonCode, str] | None:
    if relevance is None:
        return None
    if relevance.coverage < calibration.relevance_coverage:
        missing = ", ".join(relevance.missing)
        detail = (
            f"relevance check: {relevance.coverage:.0%} of the question's words in the answer and"
            f" its evidence (below {calibration.relevance_coverage:.0%}; missing {missing})"
        )
        return ReasonCode.OFF_QUESTION, detail
    if calibration.relevance_action and relevance.action_conflict:
        detail = f"relevance check: the question asks to {relevance.asked_action}, the answer not"
        return ReasonCode.OFF_QUESTION, detail
    return None


def judge_needed(signals: Signals, calibration: Calibration) -> bool:
    """Whether tier 1 leaves the answer to a judge: something is flagged, and not so badly that
    tier 1 fails it on its own."""
    if _refusal(signals, calibration):
        return False
    weak = flagged(signals, calibration)
    if not weak and not signals.compliance:
        return False
    return not _hard_fail(signals, weak, calibration.coverage_floor)


def decide(signals: Signals, calibration: Calibration) -> Verdict:
    """:func:`_decide`, with the articles tier 1 held the sentences against (``sources``)."""
    sources = [
        f.evidence_article_id
        for f in signals.findings
        if f.basis == "passage" and f.evidence_article_id
    ]
    verdict = _decide(signals, calibration)
    return verdict.model_copy(update={"sources": list(dict.fromkeys(sources))})


def _decide(signals: Signals, calibration: Calibration) -> Verdict:
    """Fail at tier 1 when the answer's yes contradicts a condition for the customer's own
    quantity, gives a contact no passage gives, relies on a made-up quote, or is about something
    else; pass at tier 1 when
    nothing is flagged; fail at tier 1 on an unsupported quantity or a claim below the coverage
    floor; otherwise the judge's signal decides at tier 2."""
    weak = flagged(signals, calibration)
    refusal = _refusal(signals, calibration)
    if refusal is not None:
        code, detail = refusal
        return Verdict(
            outcome="escalate",
            reasons=[code],
            tier=1,
            flagged=weak,
            compliance=signals.compliance,
            detail=detail,
        )
    if not weak and not signals.compliance:
        return Verdict(outcome="pass", tier=1)
    hard_fail = _hard_fail(signals, weak, calibration.coverage_floor)
    if hard_fail:
        return Verdict(
            outcome="escalate",
            reasons=[ReasonCode.UNGROUNDED],
            tier=1,
            flagged=weak,
            compliance=signals.compliance,
            detail=hard_fail,
        )
    return _tier2(signals, weak, calibration)


def _tier2(signals: Signals, weak: list[SentenceFinding], calibration: Calibration) -> Verdict:
    judge = signals.judge or JudgeSignal(detail="judge failed: it was not asked")
    if judge.failure is None and judge.rubric is not None:
        failures = judge.rubric.failures()
        return Verdict(
            outcome="escalate" if failures else "pass",
            reasons=[code for code, _ in failures],
            tier=2,
            flagged=weak,
            judge=judge.rubric,
            compliance=signals.compliance,
            detail="; ".join(f"{code}: {rationale}" for code, rationale in failures),
        )
    if judge.failure is None and judge.probability is not None:
        return _grounding(judge.probability, weak, calibration.judge)
    return Verdict(
        outcome="escalate",
        reasons=[judge.failure or ReasonCode.LLM_ERROR],
        tier=2,
        flagged=weak,
        compliance=signals.compliance,
        detail=judge.detail,
    )


def _grounding(probability: float, weak: list[SentenceFinding], threshold: float) -> Verdict:
    """The grounding judge's verdict: pass when its probability reaches ``threshold``."""
    verdict = Verdict(
        outcome="pass", tier=2, flagged=weak, grounding_probability=round(probability, 4)
    )
    if probability >= threshold:
        return verdict
    return verdict.model_copy(
        update={
            "outcome": "escalate",
            "reasons": [ReasonCode.UNGROUNDED],
            "detail": f"grounding judge: {probability:.2f} likely supported, below {threshold:.2f}",
        }
    )
