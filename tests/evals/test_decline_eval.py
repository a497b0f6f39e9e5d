from __future__ import annotations

from pathlib import Path

import pytest

from core.cases import load_cases
from evals.decline import DEV, SAMPLE, Row, chosen, fit, separation, sweep
from guardrails.confidence import AnswerSignals


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


@pytest.mark.parametrize("path", DEV, ids=lambda p: p.name)
def test_each_dev_set_has_questions_of_both_kinds(path: Path) -> None:
    cases = load_cases(path)
    kinds = {c.expect for c in cases}
    assert kinds == {"answer", "escalate"}
    assert all(c.gold_article_ids for c in cases if c.expect == "answer")


def test_the_dev_sets_share_no_question_with_the_golden_set() -> None:
    golden = {tuple(t.text for t in c.turns) for c in load_cases(SAMPLE / "questions.jsonl")}
    dev = [tuple(t.text for t in c.turns) for path in DEV for c in load_cases(path)]
    assert not golden.intersection(dev)
    assert any(len(turns) > 1 for turns in dev)  # follow-ups, as customers write them


def test_separation_is_the_share_of_pairs_each_signal_orders_right() -> None:
    found = [
        Row(
            id="a", answerable=True, answered=True, probability=0.01, retrieval=0.7, similarity=0.6
        ),
        Row(
            id="b", answerable=True, answered=True, probability=0.30, retrieval=0.4, similarity=0.5
        ),
        Row(
            id="c", answerable=False, answered=True, probability=0.20, retrieval=0.5, similarity=0.3
        ),
        Row(id="d", answerable=False, answered=True, probability=None, retrieval=None),
    ]
    aucs = separation(found)
    assert aucs == {"p_none_auc": 0.5, "retrieval_best_auc": 0.5, "question_similarity_auc": 1.0}
    assert set(separation(found[:2]).values()) == {None}


def signalled(good: bool, probability: float, similarity: float, i: int) -> Row:
    return Row(
        id=f"r{i}",
        answerable=good,
        answered=True,
        probability=probability,
        retrieval=0.5,
        similarity=similarity,
        good=good,
    )


def test_the_confidence_fit_learns_the_similarity_the_probability_misses() -> None:
    # Every answer is sure (P("none") 0.02-0.05), but the good ones are near their question.
    found = [signalled(True, 0.02 + 0.001 * i, 0.6 + 0.01 * i, i) for i in range(10)]
    found += [signalled(False, 0.03 + 0.001 * i, 0.2 + 0.01 * i, 10 + i) for i in range(10)]
    found.append(Row(id="declined", answerable=False, answered=False, probability=None))
    fitted = fit(found, fitted_on="synthetic")
    assert fitted.model.question_similarity > 0
    assert (fitted.good, fitted.others) == (10, 11)
    assert (fitted.shown_good, fitted.shown_other) == (10, 0)
    assert fitted.model.threshold == min(p.threshold for p in fitted.points if p.balanced == 1.0)
    near = AnswerSignals(decline_probability=0.03, question_similarity=0.65, retrieval_best=0.5)
    far = near.model_copy(update={"question_similarity": 0.25})
    assert fitted.model.shows(near) and not fitted.model.shows(far)
