"""The benchmark's metrics as small evaluator objects (as Pydantic Evals does): each looks at one
case and what the pipeline did with it, and returns a bool (an assertion), a number (a score),
or None when it does not apply (answer similarity of an escalated case, say), optionally with a
reason. The list of metrics, their descriptions and directions are derived from
:data:`EVALUATORS`; an evaluator that crashes is recorded as data and never aborts a run.

Every metric is a float in [0, 1] where higher is better, except ``latency_ms`` and ``tokens``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from core.cases import BenchmarkCase
from evals.bench.metrics import (
    JUDGE_METRICS,
    CaseOutcome,
    case_passed,
    contradicts_reference,
    ranking_metrics,
    token_f1,
    verdict_of,
)

Value = bool | float | None


@dataclass(frozen=True)
class Reasoned:
    """A value with the evaluator's reason for it."""

    value: Value
    reason: str = ""


@dataclass(frozen=True)
class Evaluator(ABC):
    name: str
    description: str
    higher_is_better: bool = True

    @abstractmethod
    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        """The metric's value on this case."""


@dataclass(frozen=True)
class MetricSpec:
    description: str
    higher_is_better: bool = True


def _answered_with_reference(case: BenchmarkCase, outcome: CaseOutcome) -> bool:
    return outcome.answered and bool(case.reference_answer.strip())


@dataclass(frozen=True)
class Passed(Evaluator):
    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        if outcome.error is not None:
            return Reasoned(False, f"the pipeline crashed: {outcome.error}")
        return case_passed(case, outcome)


@dataclass(frozen=True)
class IssueCorrect(Evaluator):
    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        return None if case.issue_type is None else outcome.issue_type == case.issue_type


@dataclass(frozen=True)
class Ranking(Evaluator):
    measure: Literal["recall_at_1", "recall_at_3", "mrr"] = "mrr"

    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        return ranking_metrics(outcome.passages, case.gold_article_ids)[self.measure]


@dataclass(frozen=True)
class CitedGold(Evaluator):
    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        if not outcome.answered or not case.gold_article_ids:
            return None
        return any(c in case.gold_article_ids for c in outcome.citations)


@dataclass(frozen=True)
class AnswerSimilarity(Evaluator):
    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        return outcome.answer_similarity if _answered_with_reference(case, outcome) else None


@dataclass(frozen=True)
class TokenF1(Evaluator):
    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        if not _answered_with_reference(case, outcome) or case.expect == "escalate":
            return None
        return token_f1(outcome.answer, case.reference_answer)


@dataclass(frozen=True)
class Escalation(Evaluator):
    """``correct``: escalated, on a case that must be; otherwise escalated, on one that should
    be answered."""

    correct: bool = True

    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        must_escalate = case.expect == "escalate"
        if must_escalate != self.correct:
            return None
        return not outcome.answered


@dataclass(frozen=True)
class WrongVerdict(Evaluator):
    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        # Over the cases whose reference says yes or no; escalating one is not a wrong answer.
        if verdict_of(case.reference_answer) is None:
            return None
        if contradicts_reference(case, outcome):
            return Reasoned(True, f"the reference opens {case.reference_answer.split()[0]!r}")
        return False


@dataclass(frozen=True)
class JudgeScore(Evaluator):
    criterion: str = "accuracy"

    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        return outcome.judge_scores.get(self.criterion)


@dataclass(frozen=True)
class Latency(Evaluator):
    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        return outcome.latency_ms


@dataclass(frozen=True)
class Tokens(Evaluator):
    def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value | Reasoned:
        return float(outcome.tokens)


EVALUATORS: tuple[Evaluator, ...] = (
    Passed("pass", "the case's expectation met (see case_passed)"),
    IssueCorrect("issue_correct", "predicted issue type equals the expected one"),
    Ranking(
        "recall_at_1", "a gold article is the first passage given to the model", True, "recall_at_1"
    ),
    Ranking("recall_at_3", "a gold article is among the first 3 passages", True, "recall_at_3"),
    Ranking("mrr", "reciprocal rank of the first gold article among the passages", True, "mrr"),
    CitedGold("cited_gold", "the answer cites a gold article"),
    AnswerSimilarity("answer_similarity", "MiniLM cosine of the answer to the reference answer"),
    TokenF1("token_f1", "token-overlap F1 of the answer with the reference answer"),
    Escalation("correct_escalation", "escalated, on a case that must escalate", True, True),
    Escalation("false_escalation", "escalated, on a case that should be answered", False, False),
    WrongVerdict(
        "wrong_verdict",
        "answered with the opposite yes/no of the reference answer (see verdict_of)",
        False,
    ),
    *(
        JudgeScore(f"judge_{m}", f"LLM judge score for {m}, 1-5 scaled to 0-1", True, m)
        for m in JUDGE_METRICS
    ),
    Latency("latency_ms", "time through the whole pipeline", False),
    Tokens("tokens", "prompt + completion tokens of the answer", False),
)

METRICS: Mapping[str, MetricSpec] = {
    e.name: MetricSpec(e.description, e.higher_is_better) for e in EVALUATORS
}


@dataclass(frozen=True)
class Evaluation:
    """Every metric's value on one case, and the reasons evaluators gave (crashes included)."""

    metrics: dict[str, float | None]
    reasons: dict[str, str]


def evaluate_case(
    case: BenchmarkCase,
    outcome: CaseOutcome,
    evaluators: tuple[Evaluator, ...] = EVALUATORS,
) -> Evaluation:
    metrics: dict[str, float | None] = {}
    reasons: dict[str, str] = {}
    for evaluator in evaluators:
        try:
            result = evaluator.evaluate(case, outcome)
        except Exception as exc:  # an evaluator's bug is data about this case, not a crash
            metrics[evaluator.name] = None
            reasons[evaluator.name] = f"evaluator failed: {type(exc).__name__}: {exc}"
            continue
        value = result.value if isinstance(result, Reasoned) else result
        metrics[evaluator.name] = None if value is None else float(value)
        if isinstance(result, Reasoned) and result.reason:
            reasons[evaluator.name] = result.reason
    return Evaluation(metrics=metrics, reasons=reasons)
