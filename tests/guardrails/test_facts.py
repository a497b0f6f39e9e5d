from __future__ import annotations

import pytest

from guardrails.facts import extract_facts, is_quantity, missing_facts


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("Each cash-out costs $0.85 and the minimum is $10.00.", {"$0.85", "$10"}),
        ("You pay five dollars or fifty cents.", {"$5", "$0.50"}),
        ("The hold is 15% or fifteen percent.", {"15%"}),
        ("It takes two weeks.", {"2 weeks"}),
        (
            "Allow 48 hours, a 30-minute wait, or twenty-four hours.",
            {"48 hours", "30 minutes", "24 hours"},
        ),
        ("Most banks take 1-3 business days.", {"1-3 business days"}),
        ("It takes 3 to 5 working days.", {"3-5 business days"}),
        (
            "Payouts pause from 12:00 am to 6:00 am and resume at 5 p.m.",
            {"00:00", "06:00", "17:00"},
        ),
        ("The store closes at noon.", {"12:00"}),
        ("Your order of Nov. 21, 2026 shipped.", {"2026-11-21"}),
        ("It shipped on 3 December.", {"12-03"}),
        ("It shipped on 2026-11-21.", {"2026-11-21"}),
        ("You need 25 deliveries and 1,000 points.", {"25", "1000"}),
    ],
)
def test_extracts_normalised_quantities(text: str, facts: set[str]) -> None:
    assert extract_facts(text) == facts


def test_extracts_names_that_do_not_start_a_sentence() -> None:
    facts = extract_facts("Open Earnings > Instant Pay and tap Get Help. Then call DoorDash.")
    assert facts == {"Earnings", "Instant Pay", "Get Help", "DoorDash"}


def test_pronoun_i_and_clause_starts_are_not_names() -> None:
    assert extract_facts("Sure, I can help. Note: Refunds are free.") == set()


def test_every_quantity_has_a_digit_and_no_name_does() -> None:
    facts = extract_facts("Instant Pay costs $0.85, takes two weeks and opens at noon.")
    assert {f for f in facts if is_quantity(f)} == {"$0.85", "2 weeks", "12:00"}
    assert {f for f in facts if not is_quantity(f)} == {"Pay"}


def test_planted_contradiction_reports_the_wrong_duration() -> None:
    evidence = ["Refunds must be requested within 7 days of delivery."]
    assert missing_facts("You can request a refund within 30 days.", evidence) == ["30 days"]


def test_a_bare_mention_of_the_number_does_not_support_the_duration() -> None:
    evidence = ["The refund window is **7 days, not 30**."]
    assert missing_facts("The refund window is 30 days.", evidence) == ["30 days"]
    assert missing_facts("The refund window is 7 days.", evidence) == []


@pytest.mark.parametrize(
    ("sentence", "evidence"),
    [
        ("It arrives within 2 days.", "Allow 48 hours for it to arrive."),
        ("It takes two weeks.", "It takes 14 days."),
        ("It takes 1 week.", "It takes seven days."),
        ("It takes up to 5 business days.", "Most banks take 3-5 business days."),
        ("It takes 5 days.", "It takes 5 business days."),
        ("The fee is $10.", "You need at least $10.00."),
        ("It shipped on November 21.", "It shipped on 2026-11-21."),
        ("The link expires after 1 hour.", "The link expires after 60 minutes."),
        ("Tap get help in Instant Pay.", "Open **Earnings > Instant Pay** and tap **Get Help**."),
    ],
)
def test_evidence_in_equivalent_form_supports_the_fact(sentence: str, evidence: str) -> None:
    assert missing_facts(sentence, [evidence]) == []


def test_any_evidence_text_can_support_a_fact() -> None:
    evidence = ["Each cash-out costs $0.85.", "Customer: my order was $45.20"]
    assert missing_facts("Your $45.20 order qualifies and the fee is $0.85.", evidence) == []


@pytest.mark.parametrize(
    ("sentence", "missing"),
    [
        ("Each cash-out costs $0.58.", ["$0.58"]),
        ("You can cash out 6 times per day.", ["6"]),
        ("Payouts arrive every Friday via Stripe.", ["Friday", "Stripe"]),
        ("It takes 1 business day.", ["1 business day"]),
    ],
)
def test_facts_absent_from_the_evidence_are_missing(sentence: str, missing: list[str]) -> None:
    evidence = ["Each cash-out costs $0.85. You can cash out up to 5 times per day on Wednesday."]
    assert missing_facts(sentence, evidence) == missing


def test_sentence_without_facts_misses_nothing() -> None:
    assert missing_facts("That sounds frustrating.", []) == []


def test_numbered_list_steps_support_a_step_number() -> None:
    evidence = ["1. Open **Orders**.\n2. Tap **Get Help**."]
    assert missing_facts("In step 2, tap Get Help.", evidence) == []
    assert missing_facts("In step 3, tap Get Help.", evidence) == ["3"]
