"""The extractive prompt's probability of declining, as a hand-over: which threshold tells the
questions a knowledge base answers from those it does not (``python -m evals.decline``).

An extractive answer (answer@9 to answer@11) is the passages' own words, so the grounding check
passes it even when it answers a question nobody asked: a customer asking to pay with bitcoin
gets the sentence on cancelling an order. The model's probability of replying "none" tells such
questions apart. This runs the message path on a dev set of questions written from the sample
articles, apart from the golden set (``evals/data/sample_answerable_dev.jsonl``, single
questions, and ``sample_conversations_dev.jsonl``, follow-ups in conversations and customers'
own conditions: some answered by an article, ``expect: answer``; some by none, ``expect:
escalate``), with the hand-over off,
and prints, at each threshold, the share of answerable questions still answered and the share
of the others held back; the threshold with the best balance of the two is the one to set
(``TETHER_DECLINE_PROBABILITY``). With ``--fit`` it also fits the answer's confidence
(guardrails/confidence.py: that probability with the answer's similarity to the question and
the best passage's) for "an answer to show" (answered and passing its case), chooses its
threshold on leave-one-out confidences, and writes the model (``guardrails/confidence.yaml``,
or the path given). Tune here; report on the golden set.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from scipy.stats import mannwhitneyu
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from assistant.settings import Settings
from core.cases import load_cases
from evals.bench.runner import Run
from evals.bench.suite import parse_settings, run_benchmark
from evals.report import table
from guardrails.confidence import DEFAULT_PATH as DEFAULT_CONFIDENCE
from guardrails.confidence import AnswerSignals, ConfidenceModel, save_confidence_model

DATA = Path(__file__).resolve().parent / "data"
# Single questions, and conversations with follow-ups and customers' conditions (both written
# from the sample articles apart from the golden set: evals/data/README.md).
DEV = (DATA / "sample_answerable_dev.jsonl", DATA / "sample_conversations_dev.jsonl")
SAMPLE = Path(__file__).resolve().parents[1] / "knowledge_base" / "sample"
THRESHOLDS = (0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.12, 0.15, 0.20, 1.0)
# The configuration the threshold is for: the extractive prompt that lets it be read.
EXTRACTIVE = {
    "answer_prompt": "answer@11",
    "condense": "llm",
    "evidence": "focused",
    "rerank": "none",
}
# The hand-over off, so that every answer is shown and its signals read.
OFF = {"handover": "decline_probability", "decline_probability": 1.0}


class Row(BaseModel):
    """One dev question: whether an article answers it, whether the path answered it with the
    hand-over off, and the model's probability of declining (None when none was read)."""

    id: str
    answerable: bool
    answered: bool
    probability: float | None
    retrieval: float | None = None
    # The answer's mean similarity to the question (guardrails/confidence.py).
    similarity: float | None = None
    # Answered, citing a gold article, with no yes or no against the reference: one to show.
    good: bool = False

    def signals(self) -> AnswerSignals | None:
        if not self.answered or self.probability is None or self.similarity is None:
            return None
        return AnswerSignals(
            decline_probability=self.probability,
            question_similarity=self.similarity,
            retrieval_best=self.retrieval or 0.0,
        )


class Point(BaseModel):
    threshold: float
    answerable_shown: float
    unanswerable_held: float
    balanced: float

    @classmethod
    def of(cls, threshold: float, shown: float, held: float) -> Point:
        return cls(
            threshold=threshold,
            answerable_shown=round(shown, 3),
            unanswerable_held=round(held, 3),
            balanced=round((shown + held) / 2, 3),
        )


def rows(run: Run) -> list[Row]:
    return [
        Row(
            id=c.id,
            answerable=c.expect == "answer",
            answered=c.outcome.answered,
            probability=c.outcome.decline_probability,
            retrieval=c.outcome.retrieval_best,
            similarity=c.outcome.question_similarity,
            good=c.expect == "answer" and c.passed,
        )
        for c in run.cases
    ]


def _shown(row: Row, threshold: float) -> bool:
    return row.answered and (row.probability is None or row.probability < threshold)


def sweep(found: Sequence[Row], thresholds: Sequence[float] = THRESHOLDS) -> list[Point]:
    answerable = [r for r in found if r.answerable]
    others = [r for r in found if not r.answerable]
    points = []
    for t in thresholds:
        shown = sum(_shown(r, t) for r in answerable) / max(len(answerable), 1)
        held = sum(not _shown(r, t) for r in others) / max(len(others), 1)
        points.append(Point.of(t, shown, held))
    return points


def separation(found: Sequence[Row]) -> dict[str, float | None]:
    """How well each signal tells the answerable questions from the others (ROC AUC: 1 is a
    perfect hand-over, 0.5 chance): a low probability of declining, a close best passage."""
    signals = {
        "p_none_auc": lambda r: None if r.probability is None else -r.probability,
        "retrieval_best_auc": lambda r: r.retrieval,
        "question_similarity_auc": lambda r: r.similarity,
    }
    return {name: _auc(found, signal) for name, signal in signals.items()}


def _auc(found: Sequence[Row], signal: Callable[[Row], float | None]) -> float | None:
    answerable = [v for r in found if r.answerable and (v := signal(r)) is not None]
    others = [v for r in found if not r.answerable and (v := signal(r)) is not None]
    if not answerable or not others:
        return None
    u = mannwhitneyu(answerable, others, alternative="greater").statistic
    return round(float(u) / (len(answerable) * len(others)), 3)


def chosen(points: Sequence[Point]) -> Point:
    """The best-balanced threshold; of equals, the highest (it withholds the fewest answers)."""
    return max(points, key=lambda p: (p.balanced, p.threshold))


class Fitted(BaseModel):
    """The confidence model fitted on the dev rows, and its threshold: the best balance of
    the good answers shown and the others held, on leave-one-out confidences (each row's from
    a model fitted without it), so that the threshold is not read off the rows' own fit."""

    model: ConfidenceModel
    points: list[Point]
    shown_good: int
    shown_other: int
    good: int
    others: int


CONFIDENCE_THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(12))


def fit(found: Sequence[Row], fitted_on: str) -> Fitted:
    """A logistic model of the three signals for "an answer to show" (:attr:`Row.good`), on the
    rows whose signals were read; a row without them counts as held."""
    read = [(r, s) for r in found if (s := r.signals()) is not None]
    features = np.array([s.features() for _, s in read])
    labels = np.array([r.good for r, _ in read])
    pipeline = make_pipeline(StandardScaler(), LogisticRegression())
    held_out = cross_val_predict(
        pipeline, features, labels, cv=LeaveOneOut(), method="predict_proba"
    )[:, 1]
    good = sum(r.good for r in found)
    others = len(found) - good
    points = []
    for t in CONFIDENCE_THRESHOLDS:
        shown = held_out >= t
        shown_good = int(np.sum(shown & labels))
        shown_other = int(np.sum(shown & ~labels))
        points.append(Point.of(t, shown_good / max(good, 1), 1 - shown_other / max(others, 1)))
    best = max(points, key=lambda p: (p.balanced, -p.threshold))
    pipeline.fit(features, labels)
    scaler, logistic = pipeline[0], pipeline[-1]
    weights = logistic.coef_[0] / scaler.scale_
    bias = float(logistic.intercept_[0] - np.sum(weights * scaler.mean_))
    model = ConfidenceModel(
        decline_log_odds=round(float(weights[0]), 4),
        question_similarity=round(float(weights[1]), 4),
        retrieval_best=round(float(weights[2]), 4),
        bias=round(bias, 4),
        threshold=best.threshold,
        fitted_on=fitted_on,
    )
    shown = held_out >= best.threshold
    return Fitted(
        model=model,
        points=points,
        shown_good=int(np.sum(shown & labels)),
        shown_other=int(np.sum(shown & ~labels)),
        good=good,
        others=others,
    )


def _print_fit(fitted: Fitted, out: Path | None) -> None:
    header = ("threshold", "good_shown", "others_held", "balanced")
    title = "The answer's confidence as a hand-over (leave-one-out confidences)"
    print(table(title, [list(p.model_dump().values()) for p in fitted.points], header))
    print(
        f"\nat {fitted.model.threshold}: {fitted.shown_good} of {fitted.good} good answers shown,"
        f" {fitted.shown_other} of {fitted.others} others"
    )
    if out is not None:
        save_confidence_model(fitted.model, out)
        print(f"written to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=Path, action="append", help="default: the two dev sets")
    parser.add_argument("--folder", type=Path, default=SAMPLE, help="the knowledge base's folder")
    parser.add_argument("--set", action="append", default=[], metavar="SETTING=VALUE")
    parser.add_argument(
        "--fit",
        type=Path,
        nargs="?",
        const=DEFAULT_CONFIDENCE,
        help="fit the confidence model and write it (default: guardrails/confidence.yaml)",
    )
    args = parser.parse_args()
    overrides = {**EXTRACTIVE, **parse_settings(args.set), **OFF}
    run = run_benchmark(
        args.folder,
        settings=Settings(),
        prompts={},
        tags=["__none__"],  # only the dev cases, none of the folder's own
        judge_scores=False,
        extra_cases=[case for path in args.cases or DEV for case in load_cases(path)],
        overrides=overrides,
    )
    found = rows(run)
    points = sweep(found)
    best = chosen(points)
    aucs = separation(found)
    title = f"The probability of declining as a hand-over ({len(run.cases)} dev cases)"
    header = ("threshold", "answerable_shown", "unanswerable_held", "balanced")
    print(table(title, [list(p.model_dump().values()) for p in points], header))
    print(f"\nbest balanced: {best.threshold} (set TETHER_DECLINE_PROBABILITY={best.threshold})")
    print("separation (ROC AUC):", ", ".join(f"{k} {v}" for k, v in aucs.items()))
    sweep_rows = [p.model_dump() for p in points]
    figures: dict[str, object] = {"chosen": best.model_dump(), **aucs, "sweep": sweep_rows}
    if args.fit is not None:
        fitted = fit(found, fitted_on=f"{len(run.cases)} dev cases ({', '.join(_names(args))})")
        print()
        _print_fit(fitted, args.fit)
        figures["confidence"] = fitted.model_dump()
    print(json.dumps(figures))


def _names(args: argparse.Namespace) -> list[str]:
    return [path.name for path in args.cases or DEV]


if __name__ == "__main__":
    main()
