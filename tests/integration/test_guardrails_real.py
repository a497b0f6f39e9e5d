"""Tier 1 on the real all-MiniLM-L6-v2 embedder, at the shipped (calibrated) thresholds."""

from __future__ import annotations

import pytest

from core.embeddings import MiniLMEmbedder
from guardrails.calibration import load_calibration
from guardrails.tier1 import check_support
from knowledge_base.articles import Passage
from tests.conftest import make_passage

pytestmark = pytest.mark.integration

CALIBRATION = load_calibration()
THRESHOLD = CALIBRATION.similarity


def passage(article_id: str, text: str) -> Passage:
    return make_passage(article_id, text, title="")


INSTANT_PAY = passage(
    "pay-002",
    "Instant Pay lets you move your available earnings to a debit card before the weekly payout. "
    "Each cash-out costs a flat $0.85, no matter how much you cash out. "
    "You can cash out up to 5 times per day.",
)
REFUNDS = passage(
    "ref-001",
    "Refunds for missing or damaged items must be requested within 90 days of delivery. "
    "Open Orders, select the order and tap Get Help.",
)


def test_a_faithful_paraphrase_passes(minilm: MiniLMEmbedder) -> None:
    result = check_support(
        "Every Instant Pay cash-out has a flat fee of $0.85, whatever the amount.",
        [INSTANT_PAY, REFUNDS],
        embedder=minilm,
        threshold=THRESHOLD,
    )
    assert result.passed
    (finding,) = result.findings
    assert finding.evidence_article_id == "pay-002"
    assert "$0.85" in finding.evidence


def test_an_off_topic_sentence_is_flagged(minilm: MiniLMEmbedder) -> None:
    result = check_support(
        "Each cash-out costs a flat $0.85. Our office dog loves long walks on the beach.",
        [INSTANT_PAY, REFUNDS],
        embedder=minilm,
        threshold=THRESHOLD,
    )
    assert [f.supported for f in result.findings] == [True, False]
    assert result.flagged[0].score < THRESHOLD


def test_a_swapped_duration_is_caught_by_the_fact_check_not_by_similarity(
    minilm: MiniLMEmbedder,
) -> None:
    result = check_support(
        "You can request a refund for missing or damaged items within 30 days of delivery.",
        [INSTANT_PAY, REFUNDS],
        embedder=minilm,
        threshold=THRESHOLD,
    )
    (finding,) = result.findings
    assert finding.score >= THRESHOLD  # cosine alone would let it through
    assert finding.evidence_article_id == "ref-001"
    assert (finding.supported, finding.missing_facts) == (False, ["30 days"])
