"""Distribution drift between a reference window and a recent window of one feature.

Two complementary measures are computed on the same 2 x K table of counts (K categories, or K
bins of a numeric feature):

* a chi-square test of homogeneity, which says whether the difference could be chance, and
  becomes significant for tiny changes once the windows are large;
* the Jensen-Shannon divergence (base 2, between 0 for identical and 1 for disjoint
  distributions) of the two share vectors, which says how large the change is.

A feature is reported as drifted only when the change is both significant (``p_value < alpha``)
and large enough to matter (``jsd >= min_jsd``), and both windows hold at least ``min_count``
items; with fewer items the test is not run (``chi2`` 0, ``p_value`` 1, never drifted) though the
divergence and the top changes are still reported.

Sparse categories: the chi-square approximation needs expected counts of at least 5 in every
cell. Categories absent from both windows never enter the table. Categories whose expected count
in either window would be below 5 are pooled into one "other" column before the test; if that
pooled column is itself still too small, the next smallest categories are folded into it until it
is not. When fewer than two columns remain, no test is possible and ``p_value`` is 1. The
divergence and ``top_changes`` always use the unpooled categories. For a 2 x 2 table scipy's
default Yates continuity correction applies.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency

MIN_EXPECTED = 5.0
TOP_CHANGES = 5
OTHER = "other"

Kind = Literal["categorical", "numeric"]
FloatArray = npt.NDArray[np.float64]


class DriftResult(BaseModel):
    feature: str
    kind: Kind
    n_reference: int
    n_recent: int
    chi2: float
    p_value: float
    jsd: float
    drifted: bool
    top_changes: list[tuple[str, float, float]]
    """(category or bin label, reference share, recent share), largest absolute change first."""


def jensen_shannon(p: Sequence[float] | FloatArray, q: Sequence[float] | FloatArray) -> float:
    """Jensen-Shannon divergence in bits (0 to 1) of two distributions over the same support.

    Both vectors are normalised to sum to 1; zero entries contribute nothing (0 log 0 = 0).
    Computed by ``scipy.spatial.distance.jensenshannon`` with base 2, which returns the
    Jensen-Shannon *distance*, so it is squared here to give the divergence.
    """
    p_arr = np.asarray(p, dtype=np.float64)
    q_arr = np.asarray(q, dtype=np.float64)
    if p_arr.ndim != 1 or p_arr.shape != q_arr.shape:
        raise ValueError(
            f"distributions must be 1-d and of equal length, got {p_arr.shape} and {q_arr.shape}"
        )
    if not (np.all(np.isfinite(p_arr)) and np.all(np.isfinite(q_arr))):
        raise ValueError("distributions must be finite")
    if np.any(p_arr < 0) or np.any(q_arr < 0):
        raise ValueError("distributions must be non-negative")
    if float(p_arr.sum()) <= 0 or float(q_arr.sum()) <= 0:
        raise ValueError("each distribution must have positive mass")
    # For nearly equal distributions the divergence can round to just below 0, and scipy's
    # square root of it is NaN; the divergence there is 0 to within rounding.
    with np.errstate(invalid="ignore"):
        distance = float(jensenshannon(p_arr, q_arr, base=2))
    if math.isnan(distance):
        return 0.0
    return min(1.0, distance * distance)


def _check_options(alpha: float, min_jsd: float, min_count: int) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if not 0.0 <= min_jsd <= 1.0:
        raise ValueError(f"min_jsd must be in [0, 1], got {min_jsd!r}")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"min_count must be a positive integer, got {min_count!r}")


def _pooled_columns(labels: list[str], ref: list[int], rec: list[int]) -> FloatArray:
    """The 2 x K' table for the chi-square test, sparse columns pooled (see module doc)."""
    n_ref, n_rec = sum(ref), sum(rec)
    total = n_ref + n_rec
    # A column's smallest expected cell is col_total * min(n_ref, n_rec) / total.
    needed = MIN_EXPECTED * total / min(n_ref, n_rec)
    columns = sorted(
        ((r + c, r, c, label) for label, r, c in zip(labels, ref, rec, strict=True)),
        key=lambda col: (-col[0], col[3]),
    )
    kept = [col for col in columns if col[0] >= needed]
    sparse = [col for col in columns if col[0] < needed]
    pooled_ref = sum(col[1] for col in sparse)
    pooled_rec = sum(col[2] for col in sparse)
    if sparse:
        while kept and pooled_ref + pooled_rec < needed:
            _, r, c, _ = kept.pop()
            pooled_ref += r
            pooled_rec += c
    rows = [[float(col[1]) for col in kept], [float(col[2]) for col in kept]]
    if sparse:
        rows[0].append(float(pooled_ref))
        rows[1].append(float(pooled_rec))
    return np.asarray(rows, dtype=np.float64)


def _drift(
    feature: str,
    kind: Kind,
    labels: list[str],
    ref_counts: list[int],
    rec_counts: list[int],
    *,
    alpha: float,
    min_jsd: float,
    min_count: int,
) -> DriftResult:
    # Drop categories (or bins) absent from both windows.
    cells = [(lab, r, c) for lab, r, c in zip(labels, ref_counts, rec_counts, strict=True) if r + c]
    labels = [cell[0] for cell in cells]
    ref = [cell[1] for cell in cells]
    rec = [cell[2] for cell in cells]
    n_ref, n_rec = sum(ref), sum(rec)

    top_changes: list[tuple[str, float, float]] = []
    jsd = 0.0
    if n_ref and n_rec:
        ref_share = [r / n_ref for r in ref]
        rec_share = [c / n_rec for c in rec]
        jsd = jensen_shannon(ref_share, rec_share)
        order = sorted(
            range(len(labels)), key=lambda i: (-abs(rec_share[i] - ref_share[i]), labels[i])
        )
        top_changes = [(labels[i], ref_share[i], rec_share[i]) for i in order[:TOP_CHANGES]]

    chi2, p_value = 0.0, 1.0
    if n_ref >= min_count and n_rec >= min_count:
        table = _pooled_columns(labels, ref, rec)
        if table.shape[1] >= 2:
            test = chi2_contingency(table)
            chi2, p_value = float(test.statistic), float(test.pvalue)
            if not (math.isfinite(chi2) and math.isfinite(p_value)):
                chi2, p_value = 0.0, 1.0
    drifted = n_ref >= min_count and n_rec >= min_count and p_value < alpha and jsd >= min_jsd
    return DriftResult(
        feature=feature,
        kind=kind,
        n_reference=n_ref,
        n_recent=n_rec,
        chi2=chi2,
        p_value=p_value,
        jsd=jsd,
        drifted=drifted,
        top_changes=top_changes,
    )


def categorical_drift(
    feature: str,
    reference: Sequence[str],
    recent: Sequence[str],
    *,
    alpha: float = 0.01,
    min_jsd: float = 0.05,
    min_count: int = 30,
) -> DriftResult:
    """Has the mix of a categorical feature (issue type, language, channel...) changed?"""
    _check_options(alpha, min_jsd, min_count)
    for name, values in (("reference", reference), ("recent", recent)):
        if isinstance(values, str):
            raise ValueError(f"{name} must be a sequence of category names, not a string")
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise ValueError(f"{name} item #{i} must be a string, got {value!r}")
    ref_counter, rec_counter = Counter(reference), Counter(recent)
    labels = sorted(set(ref_counter) | set(rec_counter))
    return _drift(
        feature,
        "categorical",
        labels,
        [ref_counter[label] for label in labels],
        [rec_counter[label] for label in labels],
        alpha=alpha,
        min_jsd=min_jsd,
        min_count=min_count,
    )


def _as_finite(name: str, values: Sequence[float] | FloatArray) -> FloatArray:
    if isinstance(values, str):
        raise ValueError(f"{name} must be a sequence of numbers, not a string")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers: {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or infinity)")
    return arr


def reference_edges(reference: Sequence[float] | FloatArray, bins: int = 10) -> FloatArray:
    """Bin edges: the reference window's 0, 1/bins, ..., 1 quantiles, deduplicated.

    The edges run from the reference minimum to its maximum, so each bin between them holds
    about the same share of the reference window; repeated values (a discrete or constant
    feature) merge bins rather than create empty ones. Empty reference: no edges.
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got {bins!r}")
    arr = _as_finite("reference", reference)
    if arr.size == 0:
        return np.zeros(0, dtype=np.float64)
    return np.unique(np.quantile(arr, np.linspace(0.0, 1.0, bins + 1)))


def bin_labels(edges: FloatArray) -> list[str]:
    """Labels of the bins :func:`bin_index` assigns for ``edges`` e0 < e1 < ... < em.

    ``(-inf, e0)``, ``[e0, e1)``, ..., ``[e(m-1), em]`` (the last inner bin is closed, so the
    reference maximum belongs to it), ``(em, inf)``; with a single edge c: ``(-inf, c)``,
    ``[c, c]``, ``(c, inf)``. The outer bins catch recent values beyond the reference range.
    Edges are shown with 4 significant digits, or more when needed to tell them apart.
    """
    if len(edges) == 0:
        return ["(-inf, inf)"]
    shown: list[str] = []
    for digits in range(4, 18):
        shown = [f"{edge:.{digits}g}" for edge in edges]
        if len(set(shown)) == len(shown):
            break
    if len(shown) == 1:
        inner = [f"[{shown[0]}, {shown[0]}]"]
    else:
        inner = [f"[{lo}, {hi})" for lo, hi in itertools.pairwise(shown)]
        inner[-1] = inner[-1][:-1] + "]"
    return [f"(-inf, {shown[0]})", *inner, f"({shown[-1]}, inf)"]


def bin_index(edges: FloatArray, values: FloatArray) -> npt.NDArray[np.intp]:
    """The bin of each value, numbered as in :func:`bin_labels`."""
    if len(edges) == 0:
        return np.zeros(len(values), dtype=np.intp)
    inner = max(len(edges) - 1, 1)
    index = np.searchsorted(edges, values, side="right")
    index[values == edges[-1]] = inner
    index[values > edges[-1]] = inner + 1
    return index


def numeric_drift(
    feature: str,
    reference: Sequence[float],
    recent: Sequence[float],
    *,
    bins: int = 10,
    alpha: float = 0.01,
    min_jsd: float = 0.05,
    min_count: int = 30,
) -> DriftResult:
    """Has the distribution of a numeric feature (retrieval score, latency...) changed?

    Values are binned on the reference window's quantiles (see :func:`reference_edges`), plus
    one open bin on each side for recent values beyond the reference range, and the bin counts
    compared as in :func:`categorical_drift` (bins empty in both windows are dropped). Bins are
    labelled like "[0.31, 0.42)" (see :func:`bin_labels`).
    """
    _check_options(alpha, min_jsd, min_count)
    ref = _as_finite("reference", reference)
    rec = _as_finite("recent", recent)
    edges = reference_edges(ref, bins)
    labels = bin_labels(edges)
    ref_counts = np.bincount(bin_index(edges, ref), minlength=len(labels))
    rec_counts = np.bincount(bin_index(edges, rec), minlength=len(labels))
    return _drift(
        feature,
        "numeric",
        labels,
        [int(x) for x in ref_counts],
        [int(x) for x in rec_counts],
        alpha=alpha,
        min_jsd=min_jsd,
        min_count=min_count,
    )
