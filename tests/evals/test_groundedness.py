from pathlib import Path

import pytest

from assistant.embeddings import HashingEmbedder
from assistant.llm.fake import FakeChatModel
from evals.groundedness import evaluate
from tests.conftest import judge_json

ROWS = [
    (
        "Refunds must be requested within 7 days of delivery.",
        "how long for refunds?",
        "Refunds must be requested within 7 days of delivery.",
        "Fully attributable",
    ),
    (
        "Refunds must be requested within 7 days of delivery.",
        "how long for refunds?",
        "You have 30 days to ask for a refund.",
        "Not fully attributable",
    ),
    (
        "Instant Pay costs $0.85 per cash-out.",
        "fee?",
        "Loyal customers get free cash-outs forever.",
        "Not fully attributable",
    ),
]


@pytest.fixture
def tsv(tmp_path: Path) -> Path:
    path = tmp_path / "begin_test.tsv"
    lines = ["model_name\tdata_source\tknowledge\tmessage\tresponse\tbegin_label"]
    lines += [f"m\ts\t{k}\t{m}\t{r}\t{label}" for k, m, r, label in ROWS]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cosine_mode_needs_no_model_and_scores_tier_1(tsv: Path) -> None:
    figures = evaluate(
        tsv,
        mode="cosine",
        embedder=HashingEmbedder(),
        model=None,
        threshold=0.61,
        window=2,
        progress=False,
    )
    assert figures["n"] == 3
    assert figures["tier2_share"] == 0.0
    assert figures["recall"] == 1.0  # both ungrounded responses flagged
    assert figures["grounded_blocked"] == 0.0


def test_judge_mode_asks_the_judge_about_every_response(tsv: Path) -> None:
    model = FakeChatModel().enqueue(
        judge_json(), judge_json(grounding=False), judge_json(grounding=False)
    )
    figures = evaluate(
        tsv,
        mode="judge",
        embedder=HashingEmbedder(),
        model=model,
        threshold=0.61,
        window=2,
        progress=False,
    )
    assert len(model.calls) == 3
    assert figures["tier2_share"] == 1.0
    assert figures["balanced_accuracy"] == 1.0


def test_cascade_mode_calls_the_judge_only_on_what_tier_1_flags(tsv: Path) -> None:
    model = FakeChatModel().enqueue(judge_json(grounding=False))
    figures = evaluate(
        tsv,
        mode="cascade",
        embedder=HashingEmbedder(),
        model=model,
        threshold=0.61,
        window=2,
        progress=False,
    )
    # row 1 passes tier 1; row 2 has a number in no passage (tier-1 hard fail, no judge);
    # row 3 is flagged and goes to the judge
    assert len(model.calls) == 1
    assert figures["tier2_share"] == pytest.approx(1 / 3, abs=1e-3)
    assert figures["recall"] == 1.0
