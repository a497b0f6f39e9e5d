"""The two-tier check of an answer: the cheap similarity and fact check, then, only if it flags
something, the LLM judge. Never raises for a failed check or a failed judge: returns a Verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.embeddings import Embedder
from assistant.errors import LLMError
from assistant.llm.base import ChatModel
from assistant.prompts import Prompt
from guardrails.calibration import Calibration
from guardrails.compliance import CompliancePolicy
from guardrails.facts import is_quantity, missing_facts
from guardrails.judge import JudgeOutputError, grounding_probability, judge_answer
from guardrails.tier1 import check_support, evidence_text
from guardrails.verdict import JudgeVerdict, ReasonCode, SentenceFinding, Verdict
from knowledge_base.articles import Passage

CUSTOMER_ROLES = frozenset({"customer", "user"})
_SPEAKERS = {"customer": "Customer", "user": "Customer", "assistant": "Assistant", "agent": "Agent"}


def format_conversation(turns: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"{_SPEAKERS.get(role, role.title())}: {text}" for role, text in turns)


def _unsupported_quantities(flagged: Sequence[SentenceFinding], evidence: list[str]) -> list[str]:
    """Quantities of the flagged sentences that ``evidence`` does not state."""
    return sorted(
        {
            fact
            for f in flagged
            if any(is_quantity(fact) for fact in f.missing_facts)
            for fact in missing_facts(f.sentence, evidence)
            if is_quantity(fact)
        }
    )


def _judge_notes(judged: JudgeVerdict) -> list[tuple[ReasonCode, str]]:
    """The judge's rationale for each criterion it failed."""
    criteria = [
        (ReasonCode.UNGROUNDED, judged.grounding),
        (ReasonCode.INCOHERENT, judged.coherence),
        (ReasonCode.NON_COMPLIANT, judged.compliance),
    ]
    return [(code, criterion.rationale) for code, criterion in criteria if not criterion.ok]


def answered_question(flagged: Sequence[SentenceFinding], customer_turns: Sequence[str]) -> str:
    """The customer's last turn when a flagged sentence says yes or no to it, else ""."""
    if customer_turns and any(f.answers_question for f in flagged):
        return customer_turns[-1]
    return ""


def _weakest(flagged: Sequence[SentenceFinding]) -> SentenceFinding | None:
    """The flagged claim sharing the fewest words with the evidence (claimless ones aside)."""
    claims = [f for f in flagged if f.basis != "claimless"]
    return min(claims, key=lambda f: f.coverage) if claims else None


def check_answer(
    answer: str,
    passages: Sequence[Passage],
    *,
    embedder: Embedder,
    judge_model: ChatModel,
    conversation_turns: Sequence[tuple[str, str]],
    calibration: Calibration,
    judge_prompt: str | Prompt = "judge@1",
    grounding_prompt: str | Prompt = "grounding@2",
    policy: CompliancePolicy | None = None,
) -> Verdict:
    """Pass at tier 1 when every sentence is supported; otherwise let a judge decide, except:

    * No passages at all: escalate ``NO_RELEVANT_ARTICLES`` at tier 1 (nothing to ground on).
    * A number, amount, percentage, date, time or duration that appears in no passage and
      nowhere in the customer's turns is a hard fail: escalate ``UNGROUNDED`` at tier 1,
      without asking the judge. Small judges miss number swaps ("30 days" for "7 days") that
      the fact check catches exactly, and a wrong figure is the costliest ungrounded answer (a
      refund promised outside policy), so the judge must not overrule it; and since its
      verdict could not change the outcome, calling it would only add its latency before the
      hand-off. A quantity only the customer's question mentions ("Can I get a refund after
      30 days?") is not evidence (tier 1 flags it) but not a hard fail either: the answer may
      be "No, after 30 days it is too late", so the judge decides.
    * A flagged claim sharing less than ``calibration.coverage_floor`` of its content words
      with the passages and the customer's words is a hard fail too: it is about something
      the evidence does not mention, and a judge would only add latency.

    Which judge: when a compliance rule fired, the rubric judge (``judge_prompt``: grounding,
    coherence and compliance, each with a rationale); otherwise the grounding judge
    (``grounding_prompt``), whose probability of "supported" must reach ``calibration.judge``.
    The grounding judge reads, of the passages, only each claim's best windows (tier 1's
    ``judge_passages``): handed whole articles, a small judge loses the sentence that matters.
    A judge that fails (outage, or no verdict after its one retry) escalates at tier 2 with
    ``LLM_ERROR``, or ``MALFORMED_OUTPUT`` when the judge answered but not with a verdict.

    A passing tier-2 verdict keeps the tier-1 flagged findings and the judge's verdict for the
    record. ``conversation_turns`` are (role, text) pairs; the customer's turns ("customer" or
    "user") count as evidence for sentences that restate them.
    """
    if not passages:
        return Verdict.escalate(
            ReasonCode.NO_RELEVANT_ARTICLES, tier=1, detail="no passages to ground the answer on"
        )
    customer_turns = [text for role, text in conversation_turns if role in CUSTOMER_ROLES]
    tier1 = check_support(
        answer,
        passages,
        embedder=embedder,
        threshold=calibration.similarity,
        min_coverage=calibration.coverage,
        window=calibration.window,
        conversation=customer_turns,
    )
    findings = policy.check(answer) if policy is not None else []
    if tier1.passed and not findings:
        return Verdict(outcome="pass", tier=1)
    flagged = tier1.flagged
    quantities = _unsupported_quantities(
        flagged, [*(evidence_text(p) for p in passages), *customer_turns]
    )
    weakest = _weakest(flagged)
    hard_fail = ""
    if quantities:
        hard_fail = f"fact check: {', '.join(quantities)} in no passage, not said by the customer"
    elif weakest is not None and weakest.coverage < calibration.coverage_floor:
        hard_fail = (
            f"word check: {weakest.coverage:.0%} of the words of {weakest.sentence!r} are in the"
            f" passages or the customer's words (below {calibration.coverage_floor:.0%})"
        )
    if hard_fail:
        return Verdict(
            outcome="escalate",
            reasons=[ReasonCode.UNGROUNDED],
            tier=1,
            flagged=flagged,
            compliance=findings,
            detail=hard_fail,
        )
    conversation = format_conversation(conversation_turns)
    try:
        if findings:
            judged = judge_answer(
                judge_model,
                conversation=conversation,
                passages=passages,
                answer=answer,
                prompt_ref=judge_prompt,
                rubric=policy.rubric_text() if policy is not None else "",
            )
        else:
            supported = grounding_probability(
                judge_model,
                conversation=conversation,
                passages=tier1.judge_passages or passages,
                answer=answer,
                prompt_ref=grounding_prompt,
                question=answered_question(flagged, customer_turns),
            )
    except LLMError as exc:
        malformed = isinstance(exc, JudgeOutputError)
        code = ReasonCode.MALFORMED_OUTPUT if malformed else ReasonCode.LLM_ERROR
        return Verdict(
            outcome="escalate",
            reasons=[code],
            tier=2,
            flagged=flagged,
            compliance=findings,
            detail=f"judge failed: {exc}",
        )
    if not findings:
        verdict = Verdict(
            outcome="pass", tier=2, flagged=flagged, grounding_probability=round(supported, 4)
        )
        if supported >= calibration.judge:
            return verdict
        return verdict.model_copy(
            update={
                "outcome": "escalate",
                "reasons": [ReasonCode.UNGROUNDED],
                "detail": f"grounding judge: {supported:.2f} likely supported,"
                f" below {calibration.judge:.2f}",
            }
        )
    if not judged.reasons:
        # The judge cleared it: a rule that fired was a false alarm (a policy the passages state).
        return Verdict(outcome="pass", tier=2, flagged=flagged, judge=judged, compliance=findings)
    return Verdict(
        outcome="escalate",
        reasons=judged.reasons,
        tier=2,
        flagged=flagged,
        judge=judged,
        compliance=findings,
        detail="; ".join(f"{code}: {rationale}" for code, rationale in _judge_notes(judged)),
    )
