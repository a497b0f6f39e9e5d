from __future__ import annotations

import pytest

from evals.yes_no import load_traps, score
from guardrails.calibration import Calibration
from guardrails.conditions import (
    ConditionFinding,
    Op,
    affirms,
    check_conditions,
    contradictions,
    customer_quantities,
    find_conditions,
    holds,
    quantities,
)
from guardrails.decision import Signals, decide, judge_needed
from guardrails.verdict import ReasonCode, SentenceFinding

DAY = 1440.0
CALIBRATION = Calibration(similarity=0.5, coverage=0.0, coverage_floor=0.0, judge=0.5)


# --- quantities --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "low", "high"),
    [
        ("it was delivered 10 days later", "duration", 10 * DAY, 10 * DAY),
        ("I signed up a month ago", "duration", 28 * DAY, 31 * DAY),
        ("two weeks ago", "duration", 14 * DAY, 14 * DAY),
        ("half an hour ago", "duration", 30, 30),
        ("an hour and a half", "duration", 90, 90),
        ("after 60 seconds", "duration", 1, 1),
        ("my balance is $12", "money", 12, 12),
        ("about 20 dollars", "money", 20, 20),
        ("$16 per online hour", "money/hour", 16, 16),
        ("a place 0.5 miles away", "distance", 0.5, 0.5),
        ("half a mile away", "distance", 0.5, 0.5),
        ("a 14 MB PDF", "storage", 14, 14),
        ("2 GB free", "storage", 2000, 2048),
        ("it weighs 25 pounds", "weight", 25, 25),
        ("a 1000 W motor", "power", 1000, 1000),
        ("70% of offers", "percent", 70, 70),
        ("I've done 18 deliveries", "count:delivery", 18, 18),
        ("I cashed out six times today", "count:time", 6, 6),
        ("I cashed out twice", "count:time", 2, 2),
        ("3 refund requests this month", "count:request", 3, 3),
    ],
)
def test_a_quantity_is_an_interval_of_its_kind(
    text: str, kind: str, low: float, high: float
) -> None:
    (q,) = quantities(text, said=True)
    assert (q.kind, q.low, q.high) == (kind, low, high)


@pytest.mark.parametrize(
    ("text", "age"),
    [("I'm 17.", 17), ("I am 19 years old", 19), ("she's 20, can she?", 20), ("aged 22", 22)],
)
def test_the_customer_states_an_age(text: str, age: float) -> None:
    (q,) = quantities(text, said=True)
    assert (q.kind, q.low) == ("age", age)


@pytest.mark.parametrize("text", ["I'm 19 minutes away", "the order is 20 miles away"])
def test_a_number_with_a_unit_is_no_age(text: str) -> None:
    assert all(q.kind != "age" for q in quantities(text, said=True))


def test_an_ordinal_counts_its_noun() -> None:
    (q,) = quantities("this is my fourth dispute this month", said=True)
    assert (q.kind, q.low) == ("count:dispute", 4)


def test_the_customers_hedges_widen_the_quantity() -> None:
    about, over = (s.quantity for s in customer_quantities(["About 2 weeks, over a day."]))
    assert (about.low, about.high) == pytest.approx((0.85 * 14 * DAY, 1.15 * 14 * DAY))
    assert (over.low, over.high) == (DAY, float("inf"))


@pytest.mark.parametrize(
    "turn",
    ["Can I get a refund after 30 days?", "Do I get the $10?", "Is it within 7 days?"],
)
def test_a_policy_shaped_quantity_is_not_the_customers_own(turn: str) -> None:
    assert customer_quantities([turn]) == []


# --- conditions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("evidence", "text", "op", "kind", "prohibits"),
    [
        ("You must report the problem within **7 days of delivery**.", "within 7 days", "<=",
         "duration", False),
        ("If your order arrives **more than 20 minutes late**, you get a credit.",
         "more than 20 minutes", ">", "duration", False),
        ("You must be at least **21** and have a license.", "at least 21", ">=", "age", False),
        ("The person receiving it must be **21 or older**.", "21 or older", ">=", "age", False),
        ("You can cash out up to **5 times per day**.", "up to 5 times per day", "<=",
         "count:time", False),
        ("You need an available balance of at least **$10.00**.", "at least $10.00", ">=",
         "money", False),
        ("After 7 days the Get Help option for that order closes.", "after 7 days", "after",
         "duration", True),
        ("If the new address is more than 1 mile away, the app won't allow the change.",
         "more than 1 mile", ">", "distance", True),
        ("Your account is paused if you don't consent within **14 days**.", "within 14 days",
         "<=", "duration", False),
        ("If the app says delivered but you don't have it, act quickly: reports must be made "
         "within **24 hours**.", "within 24 hours", "<=", "duration", False),
        ("Scheduled orders can be cancelled for free up to **30 minutes before** the window.",
         "up to 30 minutes", ">=", "duration", False),
        ("- Maximum weight: **20 lb**.", "maximum weight: 20 lb", "<=", "weight", False),
        ("Less than 12 hours before the block starts: Late drop", "less than 12 hours", "<",
         "duration", True),
    ],
)  # fmt: skip
def test_a_condition_is_a_comparator_and_a_quantity(
    evidence: str, text: str, op: str, kind: str, prohibits: bool
) -> None:
    (condition,) = find_conditions([evidence])
    assert (condition.text, condition.op, condition.quantity.kind) == (text, op, kind)
    assert condition.prohibits is prohibits


@pytest.mark.parametrize(
    "evidence",
    [
        "If you submit more than 3 refund requests, further requests go to manual review.",
        "Photo updates are reviewed within **48 hours**.",
        "Most parcels are delivered within **2 hours** of pickup.",
        "The bonus is earned when they complete 40 deliveries within **30 days**.",
        "- before the restaurant accepts the order, or\n- within **2 minutes** of placing it,",
        "Example: a $5 off orders of $25+ code doesn't work on a $22 subtotal.",
    ],
)
def test_a_side_effect_a_service_time_a_window_an_option_or_an_example_is_no_condition(
    evidence: str,
) -> None:
    assert find_conditions([evidence]) == []


@pytest.mark.parametrize(
    ("op", "x", "t", "expected"),
    [
        ("<=", (10, 10), (7, 7), False),
        ("<=", (5, 5), (7, 7), True),
        ("<=", (6, 8), (7, 7), None),  # "about a week" against "within 7 days"
        (">", (12, 12), (20, 20), False),
        (">=", (21, 21), (21, 21), True),
        ("after", (24, 24), (24, 24), None),  # exactly at the bar: not decided
        ("after", (3, 3), (24, 24), False),
    ],
)
def test_holds_decides_only_for_whole_intervals(
    op: Op, x: tuple[float, float], t: tuple[float, float], expected: bool | None
) -> None:
    assert holds(op, x, t) is expected


# --- the answer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "question", "expected"),
    [
        ("Yes, you can.", "Can I still report it?", True),
        ("Sure! Open Get Help.", "Can I?", True),
        ("No, the window has closed.", "Can I still report it?", False),
        ("No, you can still report it.", "Is it too late to report it?", True),
        ("Yes, it's too late.", "Is it too late to report it?", None),
        ("Yes, unfortunately the window closed.", "Can I?", None),
        ("You can report it.", "Can I?", None),
    ],
)
def test_affirms_reads_the_opener_against_the_question(
    sentence: str, question: str, expected: bool | None
) -> None:
    assert affirms(sentence, question) is expected


REPORT = "You must report the problem within **7 days of delivery**."


def test_a_yes_that_the_condition_refuses_contradicts_it() -> None:
    question = "My order was delivered 10 days ago and the fries were missing. Can I report it?"
    (finding,) = check_conditions("Yes, tap Get Help.", [question], [REPORT])
    assert (finding.condition, finding.customer, finding.met) == ("within 7 days", "10 days", False)
    assert contradictions([finding]) == [finding]


def test_a_no_is_never_a_contradiction() -> None:
    question = "My order was delivered 3 days ago and the fries were missing. Can I report it?"
    findings = check_conditions("No, you can't.", [question], [REPORT])
    assert [f.met for f in findings] == [True]
    assert contradictions(findings) == []


def test_a_yes_that_meets_the_condition_is_no_contradiction() -> None:
    question = "The fries were missing from an order delivered 3 days ago. Can I report it?"
    findings = check_conditions("Yes, within 7 days of delivery.", [question], [REPORT])
    assert [f.met for f in findings] == [True] and contradictions(findings) == []


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("The fries were missing. Can I report it?", "Yes, tap Get Help."),  # no quantity
        ("It was delivered 10 days ago. Can I report it?", "You can report it."),  # no yes/no
        ("I paid $12 for the order. Can I report it?", "Yes."),  # no amount in the evidence
    ],
)
def test_nothing_comparable_gives_no_finding(question: str, answer: str) -> None:
    assert check_conditions(answer, [question], [REPORT]) == []


def test_business_days_decide_only_clear_cases() -> None:
    evidence = ["You must appeal within **7 business days**."]
    ten = check_conditions("Yes.", ["I was told 10 days ago. Can I appeal?"], evidence)
    weeks = check_conditions("Yes.", ["I was told 3 weeks ago. Can I appeal?"], evidence)
    assert ten == [] and [f.met for f in weeks] == [False]


def test_asking_for_one_more_counts_the_next_one() -> None:
    evidence = ["You can cash out up to **5 times per day**."]
    again = check_conditions(
        "Yes.", ["I cashed out 5 times today. Can I cash out again?"], evidence
    )
    fourth = check_conditions(
        "Yes.", ["I cashed out 3 times today. Can I cash out again?"], evidence
    )
    assert [f.met for f in again] == [False] and [f.met for f in fourth] == [True]


def test_a_scoped_condition_applies_only_to_customers_it_names() -> None:
    evidence = ["Scheduled orders can be cancelled for free up to **30 minutes before** it."]
    plain = "I ordered 5 minutes ago. Can I cancel for free?"
    scheduled = "My scheduled order starts in 5 minutes. Can I cancel for free?"
    assert check_conditions("Yes, cancel it for free.", [plain], evidence) == []
    (finding,) = check_conditions("Yes, cancel it for free.", [scheduled], evidence)
    assert finding.met is False


@pytest.mark.parametrize(
    ("met", "prohibits", "affirms_", "contradicts"),
    [
        (False, False, True, True),  # a requirement failed, answered yes
        (True, False, True, False),
        (True, True, True, True),  # "after 7 days it closes" holds, answered yes
        (False, True, True, False),
        (False, False, False, False),  # a no is never contradicted
    ],
)
def test_a_finding_contradicts_a_yes_that_its_condition_refuses(
    met: bool, prohibits: bool, affirms_: bool, contradicts: bool
) -> None:
    finding = ConditionFinding(
        condition="within 7 days",
        evidence="x",
        customer="10 days",
        met=met,
        prohibits=prohibits,
        affirms=affirms_,
    )
    assert finding.contradicts is contradicts


# --- the decision ------------------------------------------------------------------------------

YES = SentenceFinding(sentence="Yes, tap Get Help.", score=0.9, answers_question=True)


def _signals(*findings: ConditionFinding) -> Signals:
    return Signals(findings=[YES], conditions=list(findings))


def _finding(met: bool) -> ConditionFinding:
    return ConditionFinding(condition="within 7 days", evidence=REPORT, customer="10 days", met=met)


def test_decide_fails_a_contradicting_yes_at_tier_1_without_a_judge() -> None:
    signals = _signals(_finding(met=False))
    verdict = decide(signals, CALIBRATION)
    assert (verdict.outcome, verdict.reasons, verdict.tier) == (
        "escalate",
        [ReasonCode.CONTRADICTS_CONDITION],
        1,
    )
    assert "'within 7 days' does not hold for the customer's '10 days'" in verdict.detail
    assert not judge_needed(signals, CALIBRATION)


def test_decide_leaves_a_yes_that_meets_its_condition_to_the_judge_as_before() -> None:
    signals = _signals(_finding(met=True))
    assert judge_needed(signals, CALIBRATION)
    verdict = decide(signals, CALIBRATION)
    assert (verdict.tier, verdict.reasons) == (2, [ReasonCode.LLM_ERROR])  # judge not asked


# --- the dev set -------------------------------------------------------------------------------


def test_the_dev_set_covers_enough_conditions() -> None:
    traps = load_traps()
    assert len(traps) >= 40 and len({t.article_id for t in traps}) >= 10
    assert {True, False} == {t.contradicts for t in traps}


def test_the_dev_set_figures_do_not_regress() -> None:
    # Measured 1.0 / 1.0 / 1.0 on 97 rows (36 contradictions); the floor leaves room for a
    # rule change that trades one row.
    figures, _ = score(load_traps())
    assert figures["precision"] >= 0.95
    assert figures["recall"] >= 0.95
    assert figures["accuracy"] >= 0.95


def test_a_business_brings_its_own_words() -> None:
    from guardrails.conditions import ConditionWords

    words = ConditionWords.of("Acme", ["gold members"])
    review = "Acme reviews appeals within 7 days."
    assert find_conditions([review]) != []  # a bar for any business but Acme
    assert find_conditions([review], words) == []  # how long Acme takes: no bar
    scoped = "Gold members can return items within 60 days."
    (condition,) = find_conditions([scoped], words)
    assert condition.scopes == frozenset({"gold member"})
    assert find_conditions([scoped])[0].scopes == frozenset()
