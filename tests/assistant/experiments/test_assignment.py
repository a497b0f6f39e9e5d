from collections import Counter

import pytest
from scipy.stats import chi2_contingency

from assistant.experiments.assignment import assign, bucket
from evals.stats import chi_square_uniformity

IDS = [f"conversation:{n:06d}" for n in range(100_000)]


def test_assignment_is_stable_across_calls_and_machines() -> None:
    # Hard-coded: a change to the hash would silently move every running experiment's users.
    assert bucket("exp-1", "conversation:000001") == bucket("exp-1", "conversation:000001")
    assert [assign("exp-1", i, {"a": 1, "b": 1}) for i in IDS[:8]] == [
        assign("exp-1", i, {"b": 1, "a": 1}) for i in IDS[:8]
    ]
    assert bucket("exp-1", "conversation:000001") == FROZEN_BUCKET


FROZEN_BUCKET = 3111  # computed once, by hand, and never again


def test_buckets_are_uniform_over_100000_ids() -> None:
    counts = Counter(bucket("exp-uniform", i) // 100 for i in IDS)  # 100 bins of 100 buckets
    chi2, p = chi_square_uniformity([counts[b] for b in range(100)])
    assert p > 0.001, (chi2, p)


def test_traffic_splits_follow_the_weights() -> None:
    counts = Counter(assign("exp-split", i, {"control": 90, "treatment": 10}) for i in IDS)
    assert counts["treatment"] / len(IDS) == pytest.approx(0.10, abs=0.005)


def test_two_experiments_split_the_same_ids_independently() -> None:
    first = [assign("exp-A", i, {"a": 1, "b": 1}) for i in IDS]
    second = [assign("exp-B", i, {"x": 1, "y": 1}) for i in IDS]
    table = Counter(zip(first, second, strict=True))
    chi2, p, _, _ = chi2_contingency(
        [[table["a", "x"], table["a", "y"]], [table["b", "x"], table["b", "y"]]]
    )
    assert p > 0.001, (chi2, p, table)


def test_bad_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one variant"):
        assign("e", "u", {})
    with pytest.raises(ValueError, match="non-negative"):
        assign("e", "u", {"a": -1, "b": 2})
