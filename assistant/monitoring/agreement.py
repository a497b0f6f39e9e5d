"""How well the LLM judge agrees with human reviewers, per quality metric.

Scores are integers from 1 to 5. For each metric we report Cohen's kappa (chance-corrected exact
agreement), quadratically weighted kappa (near misses count as partial agreement), the raw share
of exact matches, both means (a judge that is systematically harsher or kinder shows up here) and
the share of serious disagreements, where judge and human differ by two points or more.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score

SCORES = (1, 2, 3, 4, 5)
DISAGREEMENT_GAP = 2


class Agreement(BaseModel):
    metric: str
    n: int
    kappa: float | None
    weighted_kappa: float | None
    exact_agreement: float | None
    judge_mean: float | None
    human_mean: float | None
    disagreement_rate: float | None


def _check_scores(name: str, scores: Sequence[int]) -> list[int]:
    if isinstance(scores, str | bytes):
        raise ValueError(f"{name} scores must be a sequence of integers, not a string")
    out: list[int] = []
    for i, score in enumerate(scores):
        if isinstance(score, bool) or not isinstance(score, int | np.integer):
            raise ValueError(f"{name} score #{i} must be an integer 1-5, got {score!r}")
        value = int(score)
        if value not in SCORES:
            raise ValueError(f"{name} score #{i} must be between 1 and 5, got {value}")
        out.append(value)
    return out


def _kappa(judge: list[int], human: list[int], weights: str | None) -> float | None:
    """Cohen's kappa over the fixed 1-5 scale, or None when it is undefined.

    Kappa is 0/0 when both raters gave one and the same score to every item (chance agreement is
    then 1); sklearn warns and returns NaN there, which we turn into None without a warning.
    """
    if len(judge) < 2:
        return None
    if len(set(judge)) == 1 and set(judge) == set(human):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(cohen_kappa_score(judge, human, labels=list(SCORES), weights=weights))
    return value if math.isfinite(value) else None


def agreement(metric: str, judge: Sequence[int], human: Sequence[int]) -> Agreement:
    """Agreement between the judge's and the humans' scores (paired by position) on ``metric``."""
    if not metric:
        raise ValueError("metric must be a non-empty name")
    judge_scores = _check_scores("judge", judge)
    human_scores = _check_scores("human", human)
    if len(judge_scores) != len(human_scores):
        raise ValueError(
            f"judge and human must score the same items: got {len(judge_scores)} judge scores "
            f"and {len(human_scores)} human scores"
        )
    n = len(judge_scores)
    if n == 0:
        return Agreement(
            metric=metric,
            n=0,
            kappa=None,
            weighted_kappa=None,
            exact_agreement=None,
            judge_mean=None,
            human_mean=None,
            disagreement_rate=None,
        )
    pairs = list(zip(judge_scores, human_scores, strict=True))
    return Agreement(
        metric=metric,
        n=n,
        kappa=_kappa(judge_scores, human_scores, None),
        weighted_kappa=_kappa(judge_scores, human_scores, "quadratic"),
        exact_agreement=sum(j == h for j, h in pairs) / n,
        judge_mean=sum(judge_scores) / n,
        human_mean=sum(human_scores) / n,
        disagreement_rate=sum(abs(j - h) >= DISAGREEMENT_GAP for j, h in pairs) / n,
    )
