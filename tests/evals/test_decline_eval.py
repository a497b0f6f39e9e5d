from __future__ import annotations

from core.cases import load_cases
from evals.decline import DEV, Row, chosen, sweep


def row(answerable: bool, probability: float | None, *, answered: bool = True) -> Row:
    return Row(id="x", answerable=answerable, answered=answered, probability=probability)


ROWS = [
    row(True, 0.03),
    row(True, 0.05),
    row(True, 0.09),  # answerable, but the model was not sure
    row(False, 0.12),
    row(False, 0.20),
    row(False, None, answered=False),  # the model declined outright
]


def test_each_threshold_counts_answerable_questions_shown_and_the_others_held() -> None:
    points = {p.threshold: p for p in sweep(ROWS, (0.04, 0.1, 0.15, 1.0))}
    assert (points[0.04].answerable_shown, points[0.04].unanswerable_held) == (0.333, 1.0)
    assert (points[0.1].answerable_shown, points[0.1].unanswerable_held) == (1.0, 1.0)
    assert (points[0.15].answerable_shown, points[0.15].unanswerable_held) == (1.0, 0.667)
    assert (points[1.0].answerable_shown, points[1.0].unanswerable_held) == (1.0, 0.333)


def test_the_best_balanced_threshold_is_chosen_the_highest_of_equals() -> None:
    points = sweep(ROWS, (0.04, 0.1, 0.11, 0.15))
    assert chosen(points).threshold == 0.11


def test_the_dev_set_has_questions_of_both_kinds() -> None:
    cases = load_cases(DEV)
    kinds = {c.expect for c in cases}
    assert kinds == {"answer", "escalate"}
    assert all(c.gold_article_ids for c in cases if c.expect == "answer")
