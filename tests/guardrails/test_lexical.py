import pytest

from guardrails.lexical import content_words, coverage, vocabulary


def test_content_words_are_stemmed_without_stop_words_or_interjections() -> None:
    assert content_words("Yes! Refunds are requested in the app.") == ["refund", "request", "app"]


def test_number_words_and_digits_compare_equal_even_where_stop_words_list_them() -> None:
    assert content_words("two platinum and five gold") == content_words("2 platinum and 5 gold")
    assert content_words("It costs $0.85") == ["cost", "0.85"]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The duo has earned 2 platinum albums.", 1.0),  # every content word is in the passage
        ("The duo earned platinum albums in Paris.", 0.8),  # paris is not
        ("Our office dog loves long walks.", 0.0),
        ("Yes, sure!", 1.0),  # nothing to look up
    ],
)
def test_coverage_is_the_share_of_content_words_the_evidence_uses(
    sentence: str, expected: float
) -> None:
    evidence = vocabulary(["The duo has earned two platinum and five gold albums."])
    assert coverage(sentence, evidence) == pytest.approx(expected)
