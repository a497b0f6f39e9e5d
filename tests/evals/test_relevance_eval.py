"""The emanual figures of a run: answered, answered right, shown wrong; and how the definition of
"right" agrees with hand labels."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from evals.bench.metrics import CaseOutcome
from evals.bench.runner import CaseResult, Run, RunConfig, load_run
from evals.relevance import (
    RIGHT_SIMILARITY,
    agreement,
    answer_key,
    load_labels,
    right,
    right_by,
    shares,
)


def result(case_id: str, answered: bool, similarity: float | None, answer: str = "x") -> CaseResult:
    return CaseResult(
        id=case_id,
        tags=[],
        expect="answer",
        outcome=CaseOutcome(answered=answered, answer=answer if answered else "", issue_type="tv"),
        metrics={"answer_similarity": similarity},
        passed=answered,
    )


def write_run(path: Path, cases: list[CaseResult]) -> Path:
    run = Run(
        id="r",
        created_at=datetime.now(UTC),
        config=RunConfig(dataset="emanual", prompts={}, model="fake"),
        cases=cases,
        aggregates={},
    )
    path.write_text(run.model_dump_json(), encoding="utf-8")
    return path


GOOD, BAD = RIGHT_SIMILARITY + 0.05, RIGHT_SIMILARITY - 0.05


def test_right_is_the_similarity_to_the_reference_where_the_judge_gave_no_score() -> None:
    assert right(result("a", True, GOOD))
    assert not right(result("b", True, BAD))
    assert not right(result("c", True, None))


def test_shares_count_answered_right_and_shown_wrong(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "run.json",
        [
            result("a", True, GOOD),
            result("b", True, GOOD),
            result("c", True, BAD),
            result("d", False, None),
        ],
    )
    assert shares(run) == {
        "questions": 4,
        "unlabelled": 3,
        "answered": 0.75,
        "answered_right": 0.5,
        "wrong_shown_of_answered": 0.333,
    }


def test_agreement_with_hand_labels_counts_only_shown_labelled_answers(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "run.json",
        [
            result("a", True, GOOD),
            result("b", True, BAD),
            result("c", True, GOOD),
            result("d", True, BAD),
            result("e", False, None),
        ],
    )
    labels_file = tmp_path / "labels.jsonl"
    rows = [("a", True), ("b", False), ("c", False), ("d", False), ("e", True)]
    labels_file.write_text(
        "\n".join(json.dumps({"id": i, "answer": answer_key("x"), "right": r}) for i, r in rows)
        + "\n"
    )
    figures = agreement(run, load_labels(labels_file))
    assert figures["labelled"] == 4
    assert figures["agreement"] == 0.75
    assert 0 < figures["kappa"] < 1


def test_a_label_of_one_answer_text_holds_for_that_text_only(tmp_path: Path) -> None:
    labelled, other = "Select Settings, then Support.", "Select Guide."
    run = write_run(
        tmp_path / "run.json",
        [result("a", True, GOOD, labelled), result("b", True, GOOD, other)],
    )
    labels_file = tmp_path / "labels.jsonl"
    rows = [
        {"id": "a", "answer": answer_key(labelled), "right": False},
        {"id": "b", "answer": answer_key(labelled), "right": False},  # another text than b's
    ]
    labels_file.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    labels = load_labels(labels_file)
    assert not right_by(load_run(run).cases[0], labels)
    assert right_by(load_run(run).cases[1], labels)  # unlabelled: the automatic definition
    assert shares(run, labels)["unlabelled"] == 1
