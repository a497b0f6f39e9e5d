from collections.abc import Sequence
from pathlib import Path

import pytest

from core.embeddings import HashingEmbedder
from core.errors import ConfigurationError
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from core.prompts import load_prompt
from evals.groundedness import ablation, calibrate, evaluate, restatements
from guardrails.calibration import Calibration, load_calibration, save_calibration

PROMPTS = {"grounding_prompt": load_prompt("grounding@2"), "judge_prompt": load_prompt("judge@1")}
CALIBRATION = Calibration(
    similarity=0.61, coverage=0.0, coverage_floor=0.0, judge=0.5, baseline_similarity=0.61
)

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


def test_cosine_mode_is_the_baseline_and_needs_no_model(tsv: Path) -> None:
    figures = evaluate(
        tsv,
        mode="cosine",
        **PROMPTS,
        embedder=HashingEmbedder(),
        model=None,
        calibration=CALIBRATION,
        progress=False,
    )
    assert figures["n"] == 3
    assert figures["tier2_share"] == 0.0
    assert figures["recall"] == 1.0  # both ungrounded responses flagged
    assert figures["grounded_blocked"] == 0.0


def test_judge_mode_asks_the_judge_about_every_response(tsv: Path) -> None:
    model = FakeChatModel().enqueue("0.9", "0.2", "No")
    figures = evaluate(
        tsv,
        mode="judge",
        **PROMPTS,
        embedder=HashingEmbedder(),
        model=model,
        calibration=CALIBRATION,
        progress=False,
    )
    assert len(model.calls) == 3
    assert figures["tier2_share"] == 1.0
    assert figures["balanced_accuracy"] == 1.0


def test_cascade_mode_calls_the_judge_only_on_what_tier_1_flags(tsv: Path) -> None:
    model = FakeChatModel().enqueue("No")
    figures = evaluate(
        tsv,
        mode="cascade",
        **PROMPTS,
        embedder=HashingEmbedder(),
        model=model,
        calibration=CALIBRATION,
        progress=False,
    )
    # row 1 passes tier 1; row 2 has a number in no passage (tier-1 hard fail, no judge);
    # row 3 is flagged and goes to the judge
    assert len(model.calls) == 1
    assert figures["tier2_share"] == pytest.approx(1 / 3, abs=1e-3)
    assert figures["recall"] == 1.0


def test_tier1_mode_scores_tier_1_alone_with_its_word_coverage(tsv: Path) -> None:
    strict = CALIBRATION.model_copy(update={"similarity": -1.0, "coverage": 0.8})
    figures = evaluate(
        tsv,
        mode="tier1",
        **PROMPTS,
        embedder=HashingEmbedder(),
        model=None,
        calibration=strict,
        progress=False,
    )
    # row 1 copies the knowledge; row 2 has a number in no passage; row 3 shares no word
    assert (figures["recall"], figures["grounded_blocked"], figures["tier2_share"]) == (
        1.0,
        0.0,
        0.0,
    )


def test_a_file_without_begin_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.tsv"
    path.write_text("question\tanswer\nq\ta\n")
    with pytest.raises(ConfigurationError, match="not a BEGIN file"):
        evaluate(
            path,
            mode="cosine",
            **PROMPTS,
            embedder=HashingEmbedder(),
            model=None,
            calibration=CALIBRATION,
            progress=False,
        )


def test_calibration_tunes_every_threshold_and_records_its_source(tmp_path: Path) -> None:
    # 5 grounded copies, 5 ungrounded inventions, and a judge that tells them apart: the sweep
    # decides every case under each of its ~36k candidate thresholds, so its time grows with the
    # rows; balanced accuracy and the judge's share are ratios, the same at 5 + 5 as at 20 + 20
    path = tmp_path / "begin_dev.tsv"
    lines = ["model_name\tdata_source\tknowledge\tmessage\tresponse\tbegin_label"]
    knowledge = "Refunds must be requested within seven days of delivery in the app."
    for i in range(5):
        lines.append(
            f"m\ts\t{knowledge}\thi\tRefunds must be requested in the app.\tFully attributable"
        )
        lines.append(
            f"m\ts\t{knowledge}\thi\tOur office dog {i} loves walks.\tNot fully attributable"
        )
    path.write_text("\n".join(lines) + "\n")

    def judge(messages: Sequence[ChatMessage]) -> str:
        return "Yes" if "Refunds must" in messages[-1].content.split("REPLY:")[-1] else "No"

    calibration = calibrate(
        path,
        embedder=HashingEmbedder(),
        model=FakeChatModel(judge),
        grounding_prompt=PROMPTS["grounding_prompt"],
        progress=False,
    )
    assert calibration.dev_figures["balanced_accuracy"] == 1.0
    assert calibration.dev_figures["tier2_share"] <= 0.30
    assert calibration.calibrated_on.startswith("begin_dev.tsv sha256:")
    assert calibration.date and calibration.command.startswith(
        "tether eval calibrate begin_dev.tsv"
    )
    saved = tmp_path / "calibration.yaml"
    save_calibration(calibration, saved)
    assert load_calibration(saved) == calibration


def test_a_broken_calibration_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "calibration.yaml"
    path.write_text("similarity: high\n")
    with pytest.raises(ConfigurationError, match="guardrail calibration"):
        load_calibration(path)


def test_the_bundled_calibration_says_where_it_came_from() -> None:
    bundled = load_calibration()
    assert bundled.calibrated_on.startswith("begin_dev_wow.tsv sha256:")
    assert bundled.date and bundled.dev_figures["tier2_share"] <= 0.30


def test_restating_the_customer_passes_tier_1_only_with_the_conversation(tmp_path: Path) -> None:
    path = tmp_path / "begin_multi.tsv"
    knowledge = "Refunds must be requested within 7 days of delivery."
    path.write_text(
        "model_name\tdata_source\tknowledge\tmessage\tresponse\tbegin_label\n"
        f"m\ts\t{knowledge}\tMy burger arrived cold.\t{knowledge}\tFully attributable\n"
        f"m\ts\t{knowledge}\tCan I get a refund?\t{knowledge}\tFully attributable\n"
    )
    strict = CALIBRATION.model_copy(update={"similarity": 0.3, "coverage": 0.8})
    figures = restatements(path, HashingEmbedder(), strict)
    assert figures == {
        "cases": 1.0,  # the question is not a statement to restate
        "response_alone": 1.0,
        "restated_with_conversation": 1.0,
        "restated_without_conversation": 0.0,
    }


def test_the_ablation_tunes_each_variant_on_dev_and_reports_every_file(tsv: Path) -> None:
    rows = ablation(tsv, [tsv], HashingEmbedder())
    assert rows[0]["variant"].startswith("baseline")  # type: ignore[union-attr]
    assert len(rows) == 8
    assert all(0.0 <= float(r[tsv.stem]) <= 1.0 for r in rows)  # type: ignore[arg-type]
    shipped = next(r for r in rows if "as shipped" in str(r["variant"]))
    assert shipped[tsv.stem] == 1.0


def test_the_calibration_sweep_decides_as_the_cascade_does(tmp_path: Path) -> None:
    # grounded copies, inventions, and restatements of the customer's own words: what the sweep
    # reports for the thresholds it picks is what `evaluate --mode cascade` measures with them
    # (4 of each kind, the restatements labelled both ways: every kind and label is there)
    path = tmp_path / "begin_dev.tsv"
    lines = ["model_name\tdata_source\tknowledge\tmessage\tresponse\tbegin_label"]
    knowledge = "Refunds must be requested within seven days of delivery in the app."
    statement = "My cat sleeps on the warm laptop every afternoon."
    for i in range(4):
        lines += [
            f"m\ts\t{knowledge}\thi\tRefunds must be requested in the app.\tFully attributable",
            f"m\ts\t{knowledge}\thi\tOur office dog {i} loves walks.\tNot fully attributable",
            f"m\ts\t{knowledge}\t{statement}\tYour cat sleeps on the warm laptop every"
            f" afternoon.\t{'Fully attributable' if i % 2 else 'Not fully attributable'}",
        ]
    path.write_text("\n".join(lines) + "\n")

    def judge(messages: Sequence[ChatMessage]) -> str:
        return "0.8" if "Refunds must" in messages[-1].content.split("REPLY:")[-1] else "0.3"

    model = FakeChatModel(judge)
    calibration = calibrate(
        path,
        embedder=HashingEmbedder(),
        model=model,
        grounding_prompt=PROMPTS["grounding_prompt"],
        progress=False,
    )
    measured = evaluate(
        path,
        mode="cascade",
        **PROMPTS,
        embedder=HashingEmbedder(),
        model=model,
        calibration=calibration,
        progress=False,
    )
    assert measured["balanced_accuracy"] == calibration.dev_figures["balanced_accuracy"]
    assert measured["tier2_share"] == calibration.dev_figures["tier2_share"]
