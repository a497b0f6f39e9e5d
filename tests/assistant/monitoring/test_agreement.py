from __future__ import annotations

import numpy as np
import pytest

from assistant.monitoring.agreement import agreement

# A small table worked out by hand.
JUDGE = [1, 1, 2, 2, 3, 3, 3, 4, 5, 5]
HUMAN = [1, 2, 2, 2, 3, 4, 3, 4, 4, 5]


def test_perfect_agreement_has_kappa_one() -> None:
    scores = [1, 2, 3, 4, 5, 3, 2, 4]
    result = agreement("helpfulness", scores, scores)
    assert result.kappa == pytest.approx(1.0)
    assert result.weighted_kappa == pytest.approx(1.0)
    assert result.exact_agreement == 1.0
    assert result.disagreement_rate == 0.0
    assert result.n == 8


def test_kappa_matches_a_hand_computation() -> None:
    # Observed agreement: 7 of 10 pairs match.
    # Marginals (scores 1..5): judge 2,2,3,1,2 and human 1,3,2,3,1 (out of 10), so chance
    # agreement = (2*1 + 2*3 + 3*2 + 1*3 + 2*1) / 100 = 0.19 and
    # kappa = (0.7 - 0.19) / (1 - 0.19) = 17/27.
    # Quadratic weights (i - j)^2: the three misses are one point apart, observed 3/10 = 0.3;
    # expected under independence E[(J - H)^2] = var J + var H + (mean J - mean H)^2
    # = 1.89 + 1.4 + 0.01 = 3.3, so weighted kappa = 1 - 0.3 / 3.3 = 10/11.
    result = agreement("correctness", JUDGE, HUMAN)
    assert result.metric == "correctness"
    assert result.n == 10
    assert result.kappa == pytest.approx(17 / 27)
    assert result.weighted_kappa == pytest.approx(10 / 11)
    assert result.exact_agreement == pytest.approx(0.7)
    assert result.judge_mean == pytest.approx(2.9)
    assert result.human_mean == pytest.approx(3.0)
    assert result.disagreement_rate == 0.0


def test_disagreement_counts_gaps_of_two_points_or_more() -> None:
    result = agreement("tone", [1, 5, 3, 2], [3, 5, 4, 5])
    assert result.disagreement_rate == pytest.approx(0.5)
    assert result.exact_agreement == pytest.approx(0.25)


def test_independent_random_scores_have_kappa_near_zero() -> None:
    rng = np.random.default_rng(7)
    judge = [int(x) for x in rng.integers(1, 6, size=2000)]
    human = [int(x) for x in rng.integers(1, 6, size=2000)]
    result = agreement("grounding", judge, human)
    assert result.kappa is not None and abs(result.kappa) < 0.1
    assert result.weighted_kappa is not None and abs(result.weighted_kappa) < 0.1
    assert result.exact_agreement is not None and abs(result.exact_agreement - 0.2) < 0.03


def test_numpy_integers_are_accepted() -> None:
    result = agreement("m", np.array([1, 2, 3]), np.array([1, 2, 3]))  # type: ignore[arg-type]
    assert result.kappa == pytest.approx(1.0)


def test_identical_constant_scores_leave_kappa_undefined_without_a_warning() -> None:
    result = agreement("m", [4, 4, 4], [4, 4, 4])
    assert result.kappa is None
    assert result.weighted_kappa is None
    assert result.exact_agreement == 1.0
    assert result.judge_mean == 4.0


def test_different_constant_scores_give_kappa_zero() -> None:
    result = agreement("m", [3, 3, 3], [2, 2, 2])
    assert result.kappa == pytest.approx(0.0)
    assert result.exact_agreement == 0.0


def test_a_single_pair_has_no_kappa_but_has_means() -> None:
    result = agreement("m", [2], [5])
    assert result.kappa is None and result.weighted_kappa is None
    assert result.judge_mean == 2.0 and result.human_mean == 5.0
    assert result.disagreement_rate == 1.0


def test_no_scores_give_nones() -> None:
    result = agreement("m", [], [])
    assert result.n == 0
    assert result.kappa is None
    assert result.weighted_kappa is None
    assert result.exact_agreement is None
    assert result.judge_mean is None
    assert result.human_mean is None
    assert result.disagreement_rate is None


def test_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match="same items"):
        agreement("m", [1, 2, 3], [1, 2])


@pytest.mark.parametrize("bad", [[0], [6], [2.5], [True]])
def test_scores_outside_one_to_five_are_rejected(bad: list[int]) -> None:
    with pytest.raises(ValueError, match="score"):
        agreement("m", bad, [3])
