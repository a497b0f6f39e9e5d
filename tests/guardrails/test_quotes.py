from __future__ import annotations

from guardrails.quotes import Quote, check_quotes, fold, misquotes
from tests.conftest import make_passage as passage

BODY = (
    "- Each cash-out costs a flat **$0.85**, no matter how much you cash out. "
    "Instant Pay is not free."
)


def test_a_passage_sentence_copied_with_other_spacing_case_and_marks_is_verbatim() -> None:
    quote = Quote(
        article_id="pay-002",
        text="\u201cEach cash-out costs a flat $0.85,  NO matter how much you cash out.\u201d",
    )
    [finding] = check_quotes([quote], [passage("pay-002", BODY)])
    assert finding.verbatim and finding.found_in == "pay-002"


def test_a_reworded_quote_is_a_misquote() -> None:
    quote = Quote(article_id="pay-002", text="Each cash-out costs $0.85 whatever you cash out.")
    findings = check_quotes([quote], [passage("pay-002", BODY)])
    assert misquotes(findings) == ["Each cash-out costs $0.85 whatever you cash out."]


def test_a_changed_number_is_a_misquote() -> None:
    quote = Quote(article_id="pay-002", text="Each cash-out costs a flat $0.58")
    assert misquotes(check_quotes([quote], [passage("pay-002", BODY)]))


def test_a_quote_under_another_retrieved_article_is_verbatim_and_says_whose_it_is() -> None:
    quote = Quote(article_id="pay-001", text="Instant Pay is not free.")
    [finding] = check_quotes([quote], [passage("pay-001", "Other text."), passage("pay-002", BODY)])
    assert finding.verbatim and finding.found_in == "pay-002"


def test_the_prompts_own_placeholder_copied_as_a_quote_is_a_misquote() -> None:
    quote = Quote(article_id="pay-002", text="a sentence copied word for word from that passage")
    assert misquotes(check_quotes([quote], [passage("pay-002", BODY)]))


def test_quotes_too_short_to_say_anything_are_not_checked() -> None:
    assert (
        check_quotes([Quote(article_id="pay-002", text="Yes.")], [passage("pay-002", BODY)]) == []
    )


def test_fold_drops_markdown_emphasis_but_keeps_underscores_inside_words() -> None:
    assert fold("**Settings** > `my_account`") == "settings > my_account"


def test_a_quoted_heading_claims_nothing_and_is_not_checked() -> None:
    heading = passage("ord-004", BODY, title="Refunds for out-of-stock items", section="Refunds")
    quote = Quote(article_id="ord-004", text="Refunds for out-of-stock items > Refunds")
    assert check_quotes([quote], [heading]) == []
