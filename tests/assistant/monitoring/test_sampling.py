from __future__ import annotations

import hashlib

import pytest
from scipy.stats import chisquare

from assistant.monitoring.sampling import draw, hash_unit, sampled

N = 100_000
IDS = [f"conv-{i}" for i in range(N)]


def test_share_zero_samples_nothing_and_share_one_samples_everything() -> None:
    ids = IDS[:5_000]
    assert draw(ids, 0.0) == []
    assert draw(ids, 1.0) == ids
    assert not any(sampled(cid, 0.0) for cid in ids[:100])
    assert all(sampled(cid, 1.0) for cid in ids[:100])


def test_the_hash_is_sha256_of_salt_and_id_read_as_a_unit_number() -> None:
    digest = hashlib.sha256(b"quality\x00conv-7").digest()
    expected = int.from_bytes(digest[:8], "big") / 2**64
    assert hash_unit("conv-7") == expected
    assert 0.0 <= expected < 1.0
    assert sampled("conv-7", 0.3) is (expected < 0.3)


def test_the_decision_is_deterministic_and_draw_agrees_with_sampled() -> None:
    ids = IDS[:2_000]
    first = draw(ids, 0.25)
    assert draw(ids, 0.25) == first
    assert first == [cid for cid in ids if sampled(cid, 0.25)]
    # A larger share keeps every id of a smaller one (the sample grows, it is not redrawn).
    assert set(first) <= set(draw(ids, 0.5))


def test_the_sampled_fraction_matches_the_share() -> None:
    assert abs(len(draw(IDS, 0.1)) / N - 0.1) < 0.005


def test_sampled_ids_are_spread_uniformly_across_groups() -> None:
    groups = 20
    counts = [0] * groups
    for cid in draw(IDS, 0.1):
        counts[int(cid.rsplit("-", 1)[1]) % groups] += 1
    # Every group holds N / groups ids, so each should get the same number of sampled ones.
    result = chisquare(counts)
    assert result.pvalue > 0.001
    assert min(counts) > 0


def test_sampling_does_not_depend_on_the_outcome() -> None:
    escalated = [cid for cid in IDS if int(cid.rsplit("-", 1)[1]) % 2 == 0]
    resolved = [cid for cid in IDS if int(cid.rsplit("-", 1)[1]) % 2 == 1]
    share_escalated = len(draw(escalated, 0.1)) / len(escalated)
    share_resolved = len(draw(resolved, 0.1)) / len(resolved)
    assert abs(share_escalated - share_resolved) < 0.01


def test_different_salts_draw_independent_samples() -> None:
    ids = IDS[:20_000]
    a = set(draw(ids, 0.5, salt="quality"))
    b = set(draw(ids, 0.5, salt="audit-2026"))
    assert a != b
    # Independent halves overlap on about a quarter of all ids.
    assert abs(len(a & b) / len(ids) - 0.25) < 0.015


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan"), float("inf")])
def test_a_share_outside_zero_to_one_is_rejected(share: float) -> None:
    with pytest.raises(ValueError, match="share"):
        sampled("conv-1", share)
    with pytest.raises(ValueError, match="share"):
        draw(["conv-1"], share)


def test_an_empty_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="conversation_id"):
        sampled("", 0.5)
