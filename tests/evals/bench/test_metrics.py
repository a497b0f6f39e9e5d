from __future__ import annotations

import pytest

from core.cases import BenchmarkCase
from evals.bench.evaluators import evaluate_case
from evals.bench.metrics import CaseOutcome, case_passed, verdict_of

TRAP = BenchmarkCase(
    id="q-060",
    question="My friend ordered a month after signing up. We both still get the $10, right?",
    gold_article_ids=["promo-002"],
    issue_type="promotions",
    reference_answer="No. Your friend had to place her first order within 14 days.",
    expect="answer",
)


def outcome(answer: str, *, answered: bool = True) -> CaseOutcome:
    return CaseOutcome(
        answered=answered,
        answer=answer if answered else "",
        withheld_answer=None if answered else answer,
        citations=["promo-002"],
        issue_type="promotions",
    )


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Yes, we both get $10.", True),
        ("Of course! Here is how.", True),
        ("No. Your friend had to order within 14 days.", False),
        ("No — the refund window is 7 days.", False),
        ("Not yet: a phone number can only be changed once every 30 days.", False),
        ("Not all of them: only orders of $15 or more.", False),
        ("Not if you cancel at least 30 minutes before.", None),
        ("No problem, here is how to change it.", None),
        ("Your friend had to order within 14 days.", None),
        ("Right now the app shows the order.", None),
    ],
)
def test_verdict_of(text: str, verdict: bool | None) -> None:
    assert verdict_of(text) is verdict


def test_a_yes_where_the_reference_says_no_is_a_wrong_answer_even_citing_the_gold_article() -> None:
    wrong = outcome("Yes, we both still get the $10 reward [promo-002].")
    assert not case_passed(TRAP, wrong)
    assert evaluate_case(TRAP, wrong).metrics["wrong_verdict"] == 1.0


def test_agreeing_with_the_reference_or_escalating_shows_no_wrong_answer() -> None:
    right = outcome("No, she had to order within 14 days of signing up [promo-002].")
    escalated = outcome("Yes, we both still get the $10 reward.", answered=False)
    assert case_passed(TRAP, right)
    assert evaluate_case(TRAP, right).metrics["wrong_verdict"] == 0.0
    assert evaluate_case(TRAP, escalated).metrics["wrong_verdict"] == 0.0


def test_cases_whose_reference_says_neither_yes_nor_no_have_no_wrong_verdict_figure() -> None:
    plain = TRAP.model_copy(update={"reference_answer": "Each cash-out costs $0.85."})
    assert evaluate_case(plain, outcome("Yes, it costs $0.85.")).metrics["wrong_verdict"] is None
