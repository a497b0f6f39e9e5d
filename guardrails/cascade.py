"""The two-tier check of an answer: the cheap similarity and fact check, then, only if it flags
something, the LLM judge. Never raises for a failed check or a failed judge: returns a Verdict.

:func:`measure` gathers tier 1's signals, :func:`ask_judge` the judge's, and
:func:`guardrails.decision.decide` turns them into the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.conversation import SPEAKERS, Turn, transcript
from core.embeddings import Embedder
from core.errors import LLMError
from core.llm.base import ChatModel
from core.prompts import Prompt
from guardrails.calibration import Calibration
from guardrails.compliance import ComplianceFinding, CompliancePolicy
from guardrails.conditions import GENERIC_WORDS, ConditionFinding, ConditionWords, check_conditions
from guardrails.decision import JudgeSignal, Signals, decide, judge_needed
from guardrails.facts import is_quantity, missing_facts
from guardrails.judge import JudgeOutputError, grounding_probability, judge_answer
from guardrails.output import unsourced_contacts
from guardrails.quotes import Quote, check_quotes, misquotes
from guardrails.relevance import relevance
from guardrails.tier1 import check_support, evidence_text
from guardrails.verdict import ReasonCode, SentenceFinding, Tier1Result, Verdict
from knowledge_base.articles import Passage


def customer_words(conversation: Sequence[Turn]) -> list[str]:
    """What the customer said, turn by turn: evidence for sentences that restate it."""
    return [turn.text for turn in conversation if turn.role == "customer"]


def unsupported_quantities(
    findings: Sequence[SentenceFinding], passages: Sequence[Passage], customer: Sequence[str]
) -> list[str]:
    """The quantities of the answer that no passage states and the customer did not say."""
    evidence = [*(evidence_text(p) for p in passages), *customer]
    return sorted(
        {
            fact
            for f in findings
            if any(is_quantity(fact) for fact in f.missing_facts)
            for fact in missing_facts(f.sentence, evidence)
            if is_quantity(fact)
        }
    )


def condition_findings(
    findings: Sequence[SentenceFinding],
    passages: Sequence[Passage],
    customer: Sequence[str],
    words: ConditionWords = GENERIC_WORDS,
) -> list[ConditionFinding]:
    """The passages' conditions held against the customer's quantities, for each sentence that
    says yes or no to the customer's question (guardrails/conditions.py)."""
    texts = [p.text for p in passages]
    return [
        condition
        for f in findings
        if f.answers_question
        for condition in check_conditions(f.sentence, customer, texts, words)
    ]


def measure(
    tier1: Tier1Result,
    passages: Sequence[Passage],
    customer: Sequence[str],
    compliance: Sequence[ComplianceFinding] = (),
    *,
    answer: str = "",
    question: str = "",
    quotes: Sequence[Quote] = (),
    words: ConditionWords = GENERIC_WORDS,
) -> Signals:
    """Tier 1's signals for :func:`decide` (the judge's come later, if it is needed); the
    relevance signal needs the ``question`` the ``answer`` replies to, the quote check the
    ``quotes`` it relies on."""
    windows = [f.evidence for f in tier1.findings if f.evidence]
    return Signals(
        findings=tier1.findings,
        compliance=list(compliance),
        unsupported_quantities=unsupported_quantities(tier1.findings, passages, customer),
        conditions=condition_findings(tier1.findings, passages, customer, words),
        unsourced_contacts=unsourced_contacts(answer, [evidence_text(p) for p in passages]),
        misquoted=misquotes(check_quotes(quotes, passages)),
        relevance=relevance(question, answer, windows) if question.strip() else None,
    )


def answered_question(findings: Sequence[SentenceFinding], customer: Sequence[str]) -> str:
    """The customer's last turn when a sentence says yes or no to it, else ""."""
    if customer and any(f.answers_question for f in findings):
        return customer[-1]
    return ""


def ask_judge(
    model: ChatModel,
    signals: Signals,
    *,
    answer: str,
    conversation: Sequence[Turn],
    passages: Sequence[Passage],
    judge_passages: Sequence[Passage],
    judge_prompt: Prompt,
    grounding_prompt: Prompt,
    rubric: str,
) -> JudgeSignal:
    """The rubric judge when a compliance rule fired, else the grounding judge's probability
    (reading only the claims' best windows, ``judge_passages``); a failing judge says why."""
    shown = transcript(conversation, SPEAKERS)
    try:
        if signals.compliance:
            return JudgeSignal(
                rubric=judge_answer(
                    model,
                    conversation=shown,
                    passages=passages,
                    answer=answer,
                    prompt=judge_prompt,
                    rubric=rubric,
                )
            )
        question = answered_question(signals.findings, customer_words(conversation))
        probability = grounding_probability(
            model,
            conversation=shown,
            passages=judge_passages or passages,
            answer=answer,
            prompt=grounding_prompt,
            question=question,
        )
        return JudgeSignal(probability=probability)
    except LLMError as exc:
        malformed = isinstance(exc, JudgeOutputError)
        code = ReasonCode.MALFORMED_OUTPUT if malformed else ReasonCode.LLM_ERROR
        return JudgeSignal(failure=code, detail=f"judge failed: {exc}")


def _tier1(
    answer: str,
    passages: Sequence[Passage],
    embedder: Embedder,
    conversation: Sequence[Turn],
    calibration: Calibration,
    policy: CompliancePolicy | None,
    question: str,
    quotes: Sequence[Quote] = (),
    words: ConditionWords = GENERIC_WORDS,
) -> tuple[Tier1Result, Signals]:
    customer = customer_words(conversation)
    tier1 = check_support(
        answer,
        passages,
        embedder=embedder,
        threshold=calibration.similarity,
        min_coverage=calibration.coverage,
        window=calibration.window,
        conversation=customer,
    )
    findings = policy.check(answer) if policy else []
    signals = measure(
        tier1,
        passages,
        customer,
        findings,
        answer=answer,
        question=question,
        quotes=quotes,
        words=words,
    )
    return tier1, signals


def check_tier1(
    answer: str,
    passages: Sequence[Passage],
    *,
    embedder: Embedder,
    conversation: Sequence[Turn],
    calibration: Calibration,
    policy: CompliancePolicy | None = None,
    question: str = "",
    quotes: Sequence[Quote] = (),
    words: ConditionWords = GENERIC_WORDS,
) -> Verdict:
    """:func:`check_answer` without a judge (what a sentence of an answer must pass to stream
    before the whole answer is checked): its verdict when tier 1 decides; an answer it would
    leave to a judge escalates at tier 1 (``UNGROUNDED`` when a sentence is flagged,
    ``NON_COMPLIANT`` when only a compliance rule fired), with the flagged sentences."""
    if not passages:
        return Verdict.escalate(
            ReasonCode.NO_RELEVANT_ARTICLES, tier=1, detail="no passages to ground the answer on"
        )
    _, signals = _tier1(
        answer, passages, embedder, conversation, calibration, policy, question, quotes, words
    )
    verdict = decide(signals, calibration)
    if not judge_needed(signals, calibration):
        return verdict
    reason = ReasonCode.UNGROUNDED if verdict.flagged else ReasonCode.NON_COMPLIANT
    detail = f"tier 1 flagged {len(verdict.flagged)} sentence(s) and no judge was asked"
    return verdict.model_copy(update={"reasons": [reason], "tier": 1, "detail": detail})


def check_answer(
    answer: str,
    passages: Sequence[Passage],
    *,
    embedder: Embedder,
    judge_model: ChatModel,
    conversation: Sequence[Turn],
    calibration: Calibration,
    judge_prompt: Prompt,
    grounding_prompt: Prompt,
    policy: CompliancePolicy | None = None,
    question: str = "",
    quotes: Sequence[Quote] = (),
    words: ConditionWords = GENERIC_WORDS,
) -> Verdict:
    """Pass at tier 1 when every sentence is supported; otherwise let a judge decide, except:

    * No passages at all: escalate ``NO_RELEVANT_ARTICLES`` at tier 1 (nothing to ground on).
    * A "Yes" to the customer that a condition of the passages refuses for the customer's own
      quantity ("Yes, you get your fee back" to "it came 12 minutes late" when the passage says
      "more than 20 minutes") escalates ``CONTRADICTS_CONDITION`` at tier 1, without the judge:
      the check is exact where it speaks, and a judge could not change the outcome
      (guardrails/conditions.py; a "No" is never failed this way, the judge decides it).
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

    * A link, e-mail address or phone number that no passage gives escalates
      ``UNSOURCED_CONTACT`` at tier 1 (guardrails/output.py); with a ``question`` (the core
      issue) and a relevance threshold calibrated, an answer about something else escalates
      ``OFF_QUESTION`` at tier 1 (guardrails/relevance.py); an answer that relies on a
      ``quote`` no passage holds word for word escalates ``MISQUOTED`` at tier 1
      (guardrails/quotes.py).

    A passing tier-2 verdict keeps the tier-1 flagged findings and the judge's verdict for the
    record. The customer's turns of ``conversation`` count as evidence for sentences that
    restate them. ``words`` are the business's own for the condition check (its name, the
    phrases naming some of its customers: guardrails/conditions.py).
    """
    if not passages:
        return Verdict.escalate(
            ReasonCode.NO_RELEVANT_ARTICLES, tier=1, detail="no passages to ground the answer on"
        )
    tier1, signals = _tier1(
        answer, passages, embedder, conversation, calibration, policy, question, quotes, words
    )
    if judge_needed(signals, calibration):
        judged = ask_judge(
            judge_model,
            signals,
            answer=answer,
            conversation=conversation,
            passages=passages,
            judge_passages=tier1.judge_passages,
            judge_prompt=judge_prompt,
            grounding_prompt=grounding_prompt,
            rubric=policy.rubric_text() if policy is not None else "",
        )
        signals = signals.model_copy(update={"judge": judged})
    return decide(signals, calibration)
