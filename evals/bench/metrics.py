"""Per-case metrics of a benchmark run, and what counts as a pass. Pure functions.

Every metric is a float in [0, 1] where higher is better, except ``latency_ms`` and ``tokens``;
a metric that does not apply to a case (answer similarity of an escalated case, say) is None.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from core.cases import BenchmarkCase

JUDGE_METRICS = ("accuracy", "grounding", "coherence", "relevance", "language")


@dataclass(frozen=True)
class MetricSpec:
    description: str
    higher_is_better: bool = True


METRICS: dict[str, MetricSpec] = {
    "pass": MetricSpec("the case's expectation met (see case_passed)"),
    "issue_correct": MetricSpec("predicted issue type equals the expected one"),
    "recall_at_1": MetricSpec("a gold article is the first passage given to the model"),
    "recall_at_3": MetricSpec("a gold article is among the first 3 passages"),
    "mrr": MetricSpec("reciprocal rank of the first gold article among the passages"),
    "cited_gold": MetricSpec("the answer cites a gold article"),
    "answer_similarity": MetricSpec("MiniLM cosine of the answer to the reference answer"),
    "token_f1": MetricSpec("token-overlap F1 of the answer with the reference answer"),
    "correct_escalation": MetricSpec("escalated, on a case that must escalate"),
    "false_escalation": MetricSpec("escalated, on a case that should be answered", False),
    "wrong_verdict": MetricSpec(
        "answered with the opposite yes/no of the reference answer (see verdict_of)", False
    ),
    **{
        f"judge_{m}": MetricSpec(f"LLM judge score for {m}, 1-5 scaled to 0-1")
        for m in JUDGE_METRICS
    },
    "latency_ms": MetricSpec("time through the whole pipeline", False),
    "tokens": MetricSpec("prompt + completion tokens of the answer", False),
}


class CaseOutcome(BaseModel):
    """What the pipeline did with one case."""

    answered: bool
    answer: str = ""
    withheld_answer: str | None = None
    citations: list[str] = Field(default_factory=list)
    issue_type: str
    core_issue: str = ""
    passages: list[str] = Field(default_factory=list)  # article ids, in the order given
    reasons: list[str] = Field(default_factory=list)
    tier: int = 0
    latency_ms: float = 0.0
    tokens: int = 0


_TOKEN = re.compile(r"[a-z0-9$]+(?:[.,][0-9]+)*")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style F1 of the bags of tokens (numbers and amounts stay whole: "$0.85")."""
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def ranking_metrics(ranked: Sequence[str], gold: Sequence[str]) -> dict[str, float | None]:
    if not gold:
        return {"recall_at_1": None, "recall_at_3": None, "mrr": None}
    order = list(dict.fromkeys(ranked))
    rank = next((i for i, a in enumerate(order, start=1) if a in gold), None)
    return {
        "recall_at_1": float(rank == 1),
        "recall_at_3": float(rank is not None and rank <= 3),
        "mrr": 0.0 if rank is None else 1.0 / rank,
    }


_YES = re.compile(r"^\W*(?:yes|yeah|yep|sure|absolutely|of course|correct|that's right)\b", re.I)
_NO = re.compile(
    r"^\W*(?:no(?! problem| worries)|nope|not (?:yet|quite|all|always|exactly)|unfortunately not"
    r"|sadly not)\b",
    re.IGNORECASE,
)


def verdict_of(text: str) -> bool | None:
    """True for an answer opening with "Yes", False for one opening with "No" / "Not yet" /
    "Not all", None when it opens with neither (a conditional "Not if ..." included)."""
    if _YES.match(text):
        return True
    if _NO.match(text):
        return False
    return None


def contradicts_reference(case: BenchmarkCase, outcome: CaseOutcome) -> bool:
    """Answered "Yes" where the reference answer says "No", or the other way round: a wrong
    answer shown to the customer, whatever else it got right (cited the gold article, say)."""
    expected = verdict_of(case.reference_answer)
    given = verdict_of(outcome.answer)
    return outcome.answered and None not in (expected, given) and expected != given


def case_passed(case: BenchmarkCase, outcome: CaseOutcome) -> bool:
    """``escalate``: handed over. ``not_escalate``: answered. ``answer``: answered without
    contradicting the reference's yes or no, and citing a gold article when the case names any
    (an uncited answer cannot be checked by a person)."""
    if case.expect == "escalate":
        return not outcome.answered
    if case.expect == "not_escalate":
        return outcome.answered
    if not outcome.answered or contradicts_reference(case, outcome):
        return False
    return not case.gold_article_ids or any(c in case.gold_article_ids for c in outcome.citations)


def case_metrics(
    case: BenchmarkCase,
    outcome: CaseOutcome,
    *,
    similarity: float | None,
    judge: Mapping[str, float] | None,
) -> dict[str, float | None]:
    answered_with_reference = outcome.answered and bool(case.reference_answer.strip())
    must_escalate = case.expect == "escalate"
    metrics: dict[str, float | None] = {
        "pass": float(case_passed(case, outcome)),
        "issue_correct": None
        if case.issue_type is None
        else float(outcome.issue_type == case.issue_type),
        **ranking_metrics(outcome.passages, case.gold_article_ids),
        "cited_gold": float(any(c in case.gold_article_ids for c in outcome.citations))
        if outcome.answered and case.gold_article_ids
        else None,
        "answer_similarity": similarity if answered_with_reference else None,
        "token_f1": token_f1(outcome.answer, case.reference_answer)
        if answered_with_reference and not must_escalate
        else None,
        "correct_escalation": float(not outcome.answered) if must_escalate else None,
        "false_escalation": None if must_escalate else float(not outcome.answered),
        # Over the cases whose reference says yes or no; escalating one is not a wrong answer.
        "wrong_verdict": None
        if verdict_of(case.reference_answer) is None
        else float(contradicts_reference(case, outcome)),
        "latency_ms": outcome.latency_ms,
        "tokens": float(outcome.tokens),
    }
    for name in JUDGE_METRICS:
        value = (judge or {}).get(name)
        metrics[f"judge_{name}"] = None if value is None else float(value)
    return metrics


def mean_of(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None and not math.isnan(v)]
    return sum(present) / len(present) if present else None
