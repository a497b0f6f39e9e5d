"""The two-tier check of an answer: the cheap similarity and fact check, then, only if it flags
something, the LLM judge. Never raises for a failed check or a failed judge: returns a Verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.embeddings import Embedder
from assistant.errors import LLMError
from assistant.llm.base import ChatModel
from assistant.prompts import Prompt
from guardrails.compliance import CompliancePolicy
from guardrails.facts import is_quantity, missing_facts
from guardrails.judge import JudgeOutputError, judge_answer
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


def check_answer(
    answer: str,
    passages: Sequence[Passage],
    *,
    embedder: Embedder,
    judge_model: ChatModel,
    conversation_turns: Sequence[tuple[str, str]],
    threshold: float,
    window: int,
    judge_prompt: str | Prompt = "judge@1",
    policy: CompliancePolicy | None = None,
) -> Verdict:
    """Pass at tier 1 when every sentence is supported; otherwise let the judge decide, except:

    * No passages at all: escalate ``NO_RELEVANT_ARTICLES`` at tier 1 (nothing to ground on).
    * A number, amount, percentage, date, time or duration that appears in no passage and
      nowhere in the customer's turns is a hard fail: escalate ``UNGROUNDED`` at tier 1,
      without asking the judge. Small judges miss number swaps ("30 days" for "7 days") that
      the fact check catches exactly, and a wrong figure is the costliest ungrounded answer (a
      refund promised outside policy), so the judge must not overrule it; and since its
      verdict could not change the outcome, calling it would only add its latency (20-40 s
      for the local 1.5B model) before the hand-off. A quantity only the customer's question
      mentions ("Can I get a refund after 30 days?") is not evidence (tier 1 flags it) but not
      a hard fail either: the answer may be "No, after 30 days it is too late", so the judge
      decides, as it does for missing names and low similarity.
    * The judge fails (outage, or no verdict after its one retry): escalate at tier 2 with
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
        threshold=threshold,
        window=window,
        conversation=customer_turns,
    )
    findings = policy.check(answer) if policy is not None else []
    if tier1.passed and not findings:
        return Verdict(outcome="pass", tier=1)
    flagged = tier1.flagged
    quantities = _unsupported_quantities(
        flagged, [*(evidence_text(p) for p in passages), *customer_turns]
    )
    if quantities:
        return Verdict(
            outcome="escalate",
            reasons=[ReasonCode.UNGROUNDED],
            tier=1,
            flagged=flagged,
            compliance=findings,
            detail=f"fact check: {', '.join(quantities)} in no passage, not said by the customer",
        )
    try:
        judged = judge_answer(
            judge_model,
            conversation=format_conversation(conversation_turns),
            passages=passages,
            answer=answer,
            prompt_ref=judge_prompt,
            rubric=policy.rubric_text() if policy is not None else "",
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
