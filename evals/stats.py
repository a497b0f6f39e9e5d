"""Significance tests for comparing eval runs: is a difference real, or noise?

Every function here is pure (no I/O, no global state) and every random one takes a ``seed`` so a
report can be reproduced exactly. Results are frozen pydantic models, so ``model_dump()`` /
``model_dump_json()`` put them straight into a JSON report.

Which test answers which question:

``paired_bootstrap``
    Two runs scored the *same* cases (one float per case, e.g. groundedness or latency). Is the
    candidate's mean different from the baseline's? Pairing removes the case-to-case variance, so
    it is far more sensitive than comparing two independent means. Gives the mean difference, a
    percentile bootstrap confidence interval for it (``scipy.stats.bootstrap``: case indices
    resampled with replacement) and a two-sided p-value from a paired sign-flip permutation test
    (see the function's docstring).

``mcnemar``
    The same cases scored pass/fail by two runs. Only the discordant cases (pass->fail and
    fail->pass) carry information; McNemar tests whether they are balanced. Exact binomial test
    when there are fewer than 25 discordant cases, chi-square with continuity correction above.

``two_proportion_ztest``
    Two *independent* samples of pass/fail outcomes (different cases or different traffic, e.g.
    an A/B split of live conversations). Wald confidence interval for the difference in rates and a
    pooled-variance z-test. Use ``mcnemar`` instead when the cases are the same.

``sample_ratio_mismatch``
    Sanity check for an A/B split: do the observed counts per variant match the intended shares?
    A mismatch (chi-square goodness of fit, alpha 0.001 by default) means the assignment or the
    logging is broken and the experiment's comparison should not be trusted.

``chi_square_uniformity``
    Are counts spread evenly over categories (e.g. cases per shard, answers per position)?

``flaky_cases``
    Cases whose pass/fail outcome changes across repeated runs of the same system: noise that
    should be excluded or fixed before attributing a change to the candidate.

``regressions``
    Applies a per-metric tolerance and direction to ``Delta`` results and names the metrics that
    got significantly worse by more than the tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict
from scipy import stats as _scipy_stats

__all__ = [
    "Delta",
    "McNemar",
    "ProportionTest",
    "SRMResult",
    "chi_square_uniformity",
    "flaky_cases",
    "mcnemar",
    "paired_bootstrap",
    "regressions",
    "sample_ratio_mismatch",
    "two_proportion_ztest",
]

MCNEMAR_EXACT_BELOW = 25
"""``mcnemar`` uses the exact binomial test while b + c is below this, chi-square from here on."""

_CHUNK_ELEMENTS = 1 << 20
"""Resampling is done in blocks of about this many array elements to bound memory."""


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Delta(_Result):
    """Paired comparison of one metric: candidate minus baseline over the same cases."""

    baseline_mean: float
    candidate_mean: float
    delta: float
    """Mean of the per-case differences (candidate - baseline); equals the difference of means."""
    ci_low: float
    ci_high: float
    """Percentile bootstrap confidence interval of ``delta`` at ``confidence``."""
    n: int
    """Pairs used (after dropping pairs where either value is NaN)."""
    p_value: float
    """Two-sided paired sign-flip permutation test of "mean difference is 0"."""
    confidence: float = 0.95
    n_dropped: int = 0
    """Pairs dropped because either value was NaN."""


class McNemar(_Result):
    """McNemar's test on paired pass/fail outcomes."""

    n: int
    both_pass: int
    both_fail: int
    pass_to_fail: int
    """b: passed on baseline, failed on candidate."""
    fail_to_pass: int
    """c: failed on baseline, passed on candidate."""
    statistic: float
    """min(b, c) for the exact test; the continuity-corrected chi-square otherwise."""
    p_value: float
    method: Literal["exact", "chi2"]


class ProportionTest(_Result):
    """Two independent proportions: rate_b - rate_a with a Wald CI and a pooled z-test."""

    rate_a: float
    rate_b: float
    diff: float
    """rate_b - rate_a."""
    ci_low: float
    ci_high: float
    """Wald interval of ``diff`` (unpooled standard error) at ``confidence``."""
    z: float
    """diff / pooled standard error (0.0 when that standard error is 0)."""
    p_value: float
    """Two-sided, pooled standard error; 1.0 when the pooled standard error is 0."""
    confidence: float = 0.95


class SRMResult(_Result):
    """Sample ratio mismatch check (chi-square goodness of fit)."""

    chi2: float
    p_value: float
    observed: dict[str, int]
    expected: dict[str, float]
    """Expected counts: normalised share times the observed total."""
    mismatch: bool
    """p_value < alpha: the split does not match the intended shares."""
    alpha: float = 0.001


# --------------------------------------------------------------------------- validation helpers


def _check_confidence(confidence: float) -> None:
    if not (0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")


def _check_alpha(alpha: float) -> None:
    if not (0.0 < alpha < 1.0):
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")


def _count(value: object, what: str) -> int:
    """A non-negative integer count (bools and non-integral floats are rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float | np.floating) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    count = int(value)
    if count < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {count}")
    return count


def _floats(values: Sequence[float], what: str) -> NDArray[np.float64]:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be a sequence of numbers") from error
    if array.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {array.shape}")
    if np.isinf(array).any():
        raise ValueError(f"{what} contains infinite values")
    return array


def _bools(values: Sequence[bool], what: str) -> NDArray[np.bool_]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {array.shape}")
    if array.size and array.dtype != np.bool_:
        if not np.isin(array, (0, 1)).all():
            raise ValueError(f"{what} must contain only booleans (or 0/1)")
        array = array.astype(np.bool_)
    return array.astype(np.bool_)


def _chi2_sf(statistic: float, dof: int) -> float:
    return float(_scipy_stats.chi2.sf(statistic, dof))


# --------------------------------------------------------------------------- paired bootstrap


def _rows_per_chunk(n: int) -> int:
    return max(1, _CHUNK_ELEMENTS // max(n, 1))


def _sign_flip_p_value(
    diffs: NDArray[np.float64], n_resamples: int, rng: np.random.Generator
) -> float:
    """Two-sided paired permutation test of mean(diffs) == 0 by flipping the signs of diffs.

    Exact (all 2**n sign patterns) when that is no more than ``n_resamples``; otherwise Monte
    Carlo with ``n_resamples`` random patterns and the (hits + 1) / (n_resamples + 1) estimate,
    which never reports an impossible p of 0.
    """
    n = diffs.size
    observed = abs(float(diffs.mean()))
    # Sums of the same numbers in another order can differ in the last bits; without this slack
    # the identity pattern (or its mirror) might not count as "at least as extreme" as itself.
    slack = 1e-12 * max(float(np.abs(diffs).mean()), 1e-300)
    threshold = observed - slack
    if n < 63 and (1 << n) <= n_resamples:
        patterns = np.arange(1 << n, dtype=np.int64)[:, None] >> np.arange(n, dtype=np.int64)
        signs = np.where(patterns & 1, 1.0, -1.0)
        flipped = np.abs(signs @ diffs) / n
        return min(1.0, float(np.count_nonzero(flipped >= threshold)) / float(1 << n))
    hits = 0
    step = _rows_per_chunk(n)
    for start in range(0, n_resamples, step):
        rows = min(step, n_resamples - start)
        signs = np.where(rng.random((rows, n)) < 0.5, -1.0, 1.0)
        hits += int(np.count_nonzero(np.abs(signs @ diffs) / n >= threshold))
    return min(1.0, (hits + 1) / (n_resamples + 1))


def paired_bootstrap(
    baseline: Sequence[float],
    candidate: Sequence[float],
    *,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Delta:
    """Compare per-case values of two runs over the same cases (same order).

    Pairs where either value is NaN are dropped (``Delta.n_dropped`` counts them). ``delta`` is
    the mean of candidate - baseline over the kept pairs.

    Confidence interval: percentile bootstrap (``scipy.stats.bootstrap``, method "percentile",
    on the per-case differences). ``n_resamples`` times, draw n case indices with replacement
    and take the mean difference over them; the interval is the (1 - confidence) / 2 and
    (1 + confidence) / 2 quantiles of those means. When every pair has the same difference the
    interval collapses to that value (all equal inputs give delta 0 and CI [0, 0]); a single
    pair gives [d, d].

    p-value: a paired sign-flip permutation test, not a bootstrap p-value. Under "no difference"
    each pair's difference is as likely to be positive as negative, so the signs are flipped at
    random and p is the share of flipped means at least as far from 0 as the observed one
    (two-sided). It is exact when 2**n <= n_resamples and a Monte Carlo estimate
    (hits + 1) / (n_resamples + 1) otherwise. Unlike the bootstrap p-value it stays honest for
    small n (two cases can never give p < 0.5). The sign flips are drawn here rather than by
    ``scipy.stats.permutation_test``: scipy draws its random sign patterns differently, and its
    Monte Carlo p-values differed from these in the printed 3 significant digits even at 200,000
    resamples, so reports would not reproduce. The CI and the p-value come from different
    procedures, so near the boundary they can disagree on significance; ``regressions``
    requires both.
    """
    base = _floats(baseline, "baseline")
    cand = _floats(candidate, "candidate")
    if base.size != cand.size:
        raise ValueError(
            f"baseline and candidate must be paired: got {base.size} and {cand.size} values"
        )
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    _check_confidence(confidence)
    keep = ~(np.isnan(base) | np.isnan(cand))
    base, cand = base[keep], cand[keep]
    n = int(base.size)
    if n == 0:
        raise ValueError("no pairs to compare (empty input, or every pair has a NaN)")

    diffs = cand - base
    rng = np.random.default_rng(seed)
    if n == 1:
        # scipy needs two observations to resample; the only resample of one pair is itself.
        low = high = float(diffs[0])
    else:
        interval = _scipy_stats.bootstrap(
            (diffs,),
            np.mean,
            n_resamples=n_resamples,
            batch=_rows_per_chunk(n),
            vectorized=True,
            confidence_level=confidence,
            method="percentile",
            rng=rng,
        ).confidence_interval
        low, high = float(interval.low), float(interval.high)
    return Delta(
        baseline_mean=float(base.mean()),
        candidate_mean=float(cand.mean()),
        delta=float(diffs.mean()),
        ci_low=low,
        ci_high=high,
        n=n,
        p_value=_sign_flip_p_value(diffs, n_resamples, rng),
        confidence=confidence,
        n_dropped=int(keep.size - n),
    )


# --------------------------------------------------------------------------- McNemar


def mcnemar(baseline_pass: Sequence[bool], candidate_pass: Sequence[bool]) -> McNemar:
    """McNemar's test on paired pass/fail outcomes of the same cases (same order).

    b = pass_to_fail, c = fail_to_pass. If b + c == 0 there is no evidence either way:
    statistic 0.0, p 1.0, method "exact". If b + c < 25: exact two-sided binomial test of
    min(b, c) successes in b + c trials at p = 0.5 (``statistic`` is min(b, c)). Otherwise:
    chi-square with 1 degree of freedom and continuity correction,
    max(|b - c| - 1, 0)**2 / (b + c) (clipped at 0 so b == c gives p 1.0).
    """
    base = _bools(baseline_pass, "baseline_pass")
    cand = _bools(candidate_pass, "candidate_pass")
    if base.size != cand.size:
        raise ValueError(
            f"baseline_pass and candidate_pass must be paired: got {base.size} and {cand.size}"
        )
    if base.size == 0:
        raise ValueError("no cases to compare")
    b = int(np.count_nonzero(base & ~cand))
    c = int(np.count_nonzero(~base & cand))
    discordant = b + c
    method: Literal["exact", "chi2"]
    if discordant == 0:
        statistic, p_value, method = 0.0, 1.0, "exact"
    elif discordant < MCNEMAR_EXACT_BELOW:
        k = min(b, c)
        result = _scipy_stats.binomtest(k, discordant, 0.5, alternative="two-sided")
        statistic, p_value, method = float(k), min(1.0, float(result.pvalue)), "exact"
    else:
        statistic = max(abs(b - c) - 1, 0) ** 2 / discordant
        p_value, method = _chi2_sf(statistic, 1), "chi2"
    return McNemar(
        n=int(base.size),
        both_pass=int(np.count_nonzero(base & cand)),
        both_fail=int(np.count_nonzero(~base & ~cand)),
        pass_to_fail=b,
        fail_to_pass=c,
        statistic=float(statistic),
        p_value=p_value,
        method=method,
    )


# --------------------------------------------------------------------------- two proportions


def two_proportion_ztest(
    successes_a: int,
    n_a: int,
    successes_b: int,
    n_b: int,
    *,
    confidence: float = 0.95,
) -> ProportionTest:
    """Compare two independent proportions: diff = rate_b - rate_a.

    CI: Wald, diff +/- z * sqrt(pa(1-pa)/n_a + pb(1-pb)/n_b) (unpooled); it collapses to
    [diff, diff] when both rates are 0 or 1. Test: z = diff / sqrt(p(1-p)(1/n_a + 1/n_b)) with
    the pooled rate p; when that standard error is 0 (both samples all-pass or all-fail) there is
    no evidence of a difference: z 0.0, p 1.0. The Wald interval is poor for rates near 0 or 1
    or small samples; treat it as approximate there.
    """
    s_a = _count(successes_a, "successes_a")
    s_b = _count(successes_b, "successes_b")
    total_a = _count(n_a, "n_a")
    total_b = _count(n_b, "n_b")
    if total_a == 0 or total_b == 0:
        raise ValueError("n_a and n_b must be positive")
    if s_a > total_a or s_b > total_b:
        raise ValueError(
            f"successes cannot exceed trials: {s_a}/{total_a} and {s_b}/{total_b} "
            "(proportions must be within [0, 1])"
        )
    _check_confidence(confidence)
    rate_a, rate_b = s_a / total_a, s_b / total_b
    diff = rate_b - rate_a
    se_unpooled = math.sqrt(rate_a * (1 - rate_a) / total_a + rate_b * (1 - rate_b) / total_b)
    z_crit = float(_scipy_stats.norm.ppf(0.5 + confidence / 2.0))
    pooled = (s_a + s_b) / (total_a + total_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / total_a + 1 / total_b))
    if se_pooled == 0.0:
        z, p_value = 0.0, 1.0
    else:
        z = diff / se_pooled
        p_value = min(1.0, float(2.0 * _scipy_stats.norm.sf(abs(z))))
    return ProportionTest(
        rate_a=rate_a,
        rate_b=rate_b,
        diff=diff,
        ci_low=diff - z_crit * se_unpooled,
        ci_high=diff + z_crit * se_unpooled,
        z=z,
        p_value=p_value,
        confidence=confidence,
    )


# --------------------------------------------------------------------------- chi-square tests


def _goodness_of_fit(
    observed: NDArray[np.float64], expected: NDArray[np.float64]
) -> tuple[float, float]:
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    return chi2, _chi2_sf(chi2, observed.size - 1)


def sample_ratio_mismatch(
    observed: Mapping[str, int],
    expected_shares: Mapping[str, float],
    *,
    alpha: float = 0.001,
) -> SRMResult:
    """Chi-square goodness of fit of observed counts per variant against the intended split.

    ``expected_shares`` need not sum to 1 (e.g. {"a": 50, "b": 50} works): they are normalised.
    Both mappings must name the same variants (at least two), counts must be non-negative
    integers with a positive total, shares must be positive and finite. ``mismatch`` is
    p_value < alpha; the conventional SRM threshold 0.001 keeps false alarms rare when the check
    runs on every experiment.
    """
    _check_alpha(alpha)
    if set(observed) != set(expected_shares):
        raise ValueError(
            "observed and expected_shares must name the same variants: "
            f"{sorted(observed)} vs {sorted(expected_shares)}"
        )
    if len(observed) < 2:
        raise ValueError("need at least two variants")
    names = list(observed)
    counts = {name: _count(observed[name], f"observed[{name!r}]") for name in names}
    total = sum(counts.values())
    if total == 0:
        raise ValueError("observed counts sum to 0")
    shares = np.array([float(expected_shares[name]) for name in names], dtype=np.float64)
    if not np.isfinite(shares).all() or (shares <= 0).any():
        raise ValueError("expected shares must be positive, finite numbers")
    expected = shares / shares.sum() * total
    chi2, p_value = _goodness_of_fit(
        np.array([counts[name] for name in names], dtype=np.float64), expected
    )
    return SRMResult(
        chi2=chi2,
        p_value=p_value,
        observed=counts,
        expected={name: float(e) for name, e in zip(names, expected, strict=True)},
        mismatch=p_value < alpha,
        alpha=alpha,
    )


def chi_square_uniformity(counts: Sequence[int]) -> tuple[float, float]:
    """(chi2, p_value) of counts against a uniform distribution over the categories.

    Needs at least two categories and a positive total; counts must be non-negative integers.
    """
    values = [_count(value, f"counts[{i}]") for i, value in enumerate(counts)]
    if len(values) < 2:
        raise ValueError("need at least two categories")
    total = sum(values)
    if total == 0:
        raise ValueError("counts sum to 0")
    observed = np.array(values, dtype=np.float64)
    return _goodness_of_fit(observed, np.full(observed.size, total / observed.size))


# --------------------------------------------------------------------------- flakiness


def flaky_cases(repeats: Mapping[str, Sequence[bool]]) -> list[str]:
    """Sorted ids of cases whose pass/fail outcome is not the same in every repeat.

    A case with fewer than two repeats cannot be flaky. Values must be booleans (or 0/1).
    """
    flaky = []
    for case_id, outcomes in repeats.items():
        values = _bools(outcomes, f"repeats[{case_id!r}]")
        if values.size >= 2 and values.any() and not values.all():
            flaky.append(case_id)
    return sorted(flaky)


# --------------------------------------------------------------------------- regressions


def regressions(
    deltas: Mapping[str, Delta],
    *,
    tolerance: Mapping[str, float],
    higher_is_better: Mapping[str, bool],
    alpha: float = 0.05,
) -> list[str]:
    """Sorted names of metrics that got significantly worse by more than their tolerance.

    For a metric where higher is better (accuracy, groundedness) it is a regression when all of:

    - ``delta < -tolerance[m]``: the point estimate dropped by more than the tolerance;
    - ``ci_high < 0``: the whole confidence interval is below 0;
    - ``p_value < alpha``: the permutation test agrees the difference is not noise.

    For a lower-is-better metric (latency, cost) it mirrors: ``delta > tolerance[m]``,
    ``ci_low > 0`` and ``p_value < alpha``. So a change must be both material (beyond tolerance)
    and significant; the tolerance is in the metric's own units and applies to the point
    estimate, not to the interval. Metrics missing from ``tolerance`` use 0.0. Every metric in
    ``deltas`` must appear in ``higher_is_better`` (the direction cannot be guessed).
    """
    _check_alpha(alpha)
    missing = sorted(set(deltas) - set(higher_is_better))
    if missing:
        raise ValueError(f"higher_is_better has no direction for: {', '.join(missing)}")
    found = []
    for metric, result in deltas.items():
        allowed = float(tolerance.get(metric, 0.0))
        if not math.isfinite(allowed) or allowed < 0:
            raise ValueError(f"tolerance[{metric!r}] must be a non-negative number, got {allowed}")
        significant = result.p_value < alpha
        if higher_is_better[metric]:
            worse = result.delta < -allowed and result.ci_high < 0
        else:
            worse = result.delta > allowed and result.ci_low > 0
        if worse and significant:
            found.append(metric)
    return sorted(found)
