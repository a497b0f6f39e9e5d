import pytest

from assistant.escalations.drafts import REPLACED_BELOW, DraftUse, compare, draft_text, kept_share
from assistant.escalations.models import DraftCounts

DRAFT = "Refunds for damaged items can be requested within 7 days of delivery: open Orders."


def test_the_same_text_up_to_white_space_is_unchanged() -> None:
    sent = "  Refunds for damaged items can be requested\nwithin 7 days of  delivery: open Orders."
    result = compare(DRAFT, sent)
    assert result is not None
    assert (result.use, result.kept) == (DraftUse.UNCHANGED, 1.0)


def test_a_few_words_changed_is_edited() -> None:
    sent = "Sorry! Refunds for damaged items can be requested within 7 days of delivery."
    result = compare(DRAFT, sent)
    assert result is not None
    assert result.use == DraftUse.EDITED
    assert REPLACED_BELOW <= result.kept < 1.0


def test_a_reply_of_the_agents_own_is_replaced() -> None:
    result = compare(DRAFT, "I have refunded your order in full; it shows in 3-5 business days.")
    assert result is not None
    assert result.use == DraftUse.REPLACED
    assert result.kept < REPLACED_BELOW


def test_a_case_changed_word_is_an_edit_not_unchanged() -> None:
    result = compare("You have 7 days.", "you have 7 days.")
    assert result is not None
    assert result.use == DraftUse.EDITED


@pytest.mark.parametrize("missing", [None, "", "   ", "None", "none.", "N/A"])
def test_without_a_draft_there_is_nothing_to_compare(missing: str | None) -> None:
    assert draft_text(missing) == ""
    assert compare(missing, "You have 7 days.") is None


def test_the_share_kept_is_of_the_drafts_words_in_order() -> None:
    assert kept_share("a b c d", "a b c d") == 1.0
    assert kept_share("a b c d", "a b x y") == 0.5
    assert kept_share("a b", "c d") == 0.0
    assert kept_share("a b", "d c b a") == 0.5  # in order: only one of the two


def test_the_whole_draft_with_a_paragraph_added_is_edited_not_replaced() -> None:
    sent = DRAFT + " " + " ".join(["I have also checked your order and added a voucher."] * 4)
    result = compare(DRAFT, sent)
    assert result is not None
    assert (result.use, result.kept) == (DraftUse.EDITED, 1.0)


def test_draft_counts_give_shares_of_the_cases_that_had_a_draft() -> None:
    counts = DraftCounts(unchanged=2, edited=1, replaced=1, no_draft=6)
    assert counts.with_draft == 4
    assert counts.share(DraftUse.UNCHANGED) == 0.5
    assert counts.share(DraftUse.REPLACED) == 0.25
    assert DraftCounts(no_draft=3).share(DraftUse.EDITED) is None
