"""What the pipeline did with one case, what counts as a pass, and the pure measures the
evaluators (evals/bench/evaluators.py) are built from."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, Field

from core.cases import BenchmarkCase

JUDGE_METRICS = ("accuracy", "grounding", "coherence", "relevance", "language")


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
    # The model's probability of declining instead (an extractive prompt's "none"), when read.
    decline_probability: float | None = None
    # How similar the best passage the model was given is to the core issue (dense cosine).
    retrieval_best: float | None = None
    # The answer's mean similarity to the question, and its confidence (guardrails/confidence.py).
    question_similarity: float | None = None
    answer_confidence: float | None = None
    # Measured after the run: MiniLM cosine of the answer to the reference, and the LLM
    # judge's scores (0-1) of the answer.
    answer_similarity: float | None = None
    judge_scores: dict[str, float] = Field(default_factory=dict)
    # The exception that stopped the pipeline on this case, if one did (the run goes on).
    error: str | None = None


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


def mean_of(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None and not math.isnan(v)]
    return sum(present) / len(present) if present else None
