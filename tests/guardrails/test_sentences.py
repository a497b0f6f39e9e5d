from __future__ import annotations

import pytest

from guardrails.sentences import runs, spans, split_sentences, strip_citations


def test_splits_plain_sentences_on_final_punctuation() -> None:
    text = "Refunds take 5 days. Did it arrive? Great! Thanks."
    assert split_sentences(text) == ["Refunds take 5 days.", "Did it arrive?", "Great!", "Thanks."]


@pytest.mark.parametrize(
    "text",
    [
        "Cash out fees are small, e.g. $0.85 per cash-out.",
        "It takes approx. 30 minutes to arrive.",
        "The fee is $2.50 and the minimum is 10.5 units.",
        "Ask J. Smith at the front desk.",
        "Deliveries run until 10 p.m. every night.",
        "Support is open Mon. through Fri. for urgent issues.",
    ],
)
def test_does_not_split_inside_abbreviations_decimals_or_initials(text: str) -> None:
    assert split_sentences(text) == [text]


def test_may_end_abbreviation_splits_before_a_capital_letter() -> None:
    assert split_sentences("Is it free? No. It costs $0.85. See rule No. 5 for details.") == [
        "Is it free?",
        "No.",
        "It costs $0.85.",
        "See rule No. 5 for details.",
    ]


def test_strips_citation_markers_but_not_other_brackets() -> None:
    text = "Refunds take 7 days [ref-001]. Fees apply [pay-002, ref-003]. See [the docs]."
    assert split_sentences(text) == ["Refunds take 7 days.", "Fees apply.", "See [the docs]."]
    assert strip_citations("Tap Get Help [kb-ref-001#2].") == "Tap Get Help."


def test_lines_and_list_items_are_sentences_without_markdown() -> None:
    text = (
        "To cash out:\n"
        "1. Open **Earnings > Instant Pay**.\n"
        "2. Tap `Cash out`\n"
        "- completed at least **25 deliveries**, and\n"
        "## Fees\n"
    )
    assert split_sentences(text) == [
        "To cash out:",
        "Open Earnings > Instant Pay.",
        "Tap Cash out",
        "completed at least 25 deliveries, and",
        "Fees",
    ]


def test_table_rows_become_sentences_and_rules_vanish() -> None:
    table = "| Problem | Report within |\n|---|---|\n| Missing items | **7 days** of delivery |"
    assert split_sentences(table) == ["Problem: Report within", "Missing items: 7 days of delivery"]


def test_empty_and_punctuation_only_text_has_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n --- \n [ref-001] ") == []


def test_runs_of_a_passages_sentences_are_one_to_size_long_shortest_first() -> None:
    assert runs(split_sentences("A one. B two. C three."), 2) == [
        "A one.",
        "B two.",
        "C three.",
        "A one. B two.",
        "B two. C three.",
    ]


def test_runs_longer_than_the_text_stop_at_the_whole_text() -> None:
    assert runs(split_sentences("A one. B two."), 5) == ["A one.", "B two.", "A one. B two."]
    assert runs(split_sentences(""), 2) == []


def test_runs_of_size_one_are_the_sentences() -> None:
    assert runs(["a.", "b."], 1) == ["a.", "b."]


def test_spans_are_the_runs_positions() -> None:
    assert spans(3, 2) == [(0, 1), (1, 2), (2, 3), (0, 2), (1, 3)]
    assert spans(0, 2) == []
