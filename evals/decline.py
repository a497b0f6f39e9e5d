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
(``TETHER_DECLINE_PROBABILITY``). Tune here; report on the golden set.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel
from scipy.stats import mannwhitneyu

from assistant.settings import Settings
from core.cases import load_cases
from evals.bench.runner import Run
from evals.bench.suite import parse_settings, run_benchmark
from evals.report import table

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


class Row(BaseModel):
    """One dev question: whether an article answers it, whether the path answered it with the
    hand-over off, and the model's probability of declining (None when none was read)."""

    id: str
    answerable: bool
    answered: bool
    probability: float | None
    retrieval: float | None = None


class Point(BaseModel):
    threshold: float
    answerable_shown: float
    unanswerable_held: float
    balanced: float


def rows(run: Run) -> list[Row]:
    return [
        Row(
            id=c.id,
            answerable=c.expect == "answer",
            answered=c.outcome.answered,
            probability=c.outcome.decline_probability,
            retrieval=c.outcome.retrieval_best,
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
        points.append(
            Point(
                threshold=t,
                answerable_shown=round(shown, 3),
                unanswerable_held=round(held, 3),
                balanced=round((shown + held) / 2, 3),
            )
        )
    return points


def separation(found: Sequence[Row]) -> dict[str, float | None]:
    """How well each signal tells the answerable questions from the others (ROC AUC: 1 is a
    perfect hand-over, 0.5 chance): a low probability of declining, a close best passage."""
    signals = {
        "p_none_auc": lambda r: None if r.probability is None else -r.probability,
        "retrieval_best_auc": lambda r: r.retrieval,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=Path, action="append", help="default: the two dev sets")
    parser.add_argument("--folder", type=Path, default=SAMPLE, help="the knowledge base's folder")
    parser.add_argument("--set", action="append", default=[], metavar="SETTING=VALUE")
    args = parser.parse_args()
    overrides = {**EXTRACTIVE, **parse_settings(args.set), "decline_probability": 1.0}
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
    print(json.dumps({"chosen": best.model_dump(), **aucs, "sweep": sweep_rows}))


if __name__ == "__main__":
    main()
