from __future__ import annotations

import pytest

from guardrails.output import contacts, strip_markup, unsourced_contacts

ECHO = (
    "<script>alert(6)</script> Each cash-out costs $0.85. "
    "[Hoppa help](https://evil.example/phish) <img src=x onerror=alert(1)>"
)


def test_markup_goes_and_a_markdown_link_is_written_out() -> None:
    assert (
        strip_markup(ECHO) == "Each cash-out costs $0.85. Hoppa help (https://evil.example/phish)"
    )
    assert strip_markup("&lt;script&gt;alert(1)&lt;/script&gt;Fine.") == "Fine."
    assert strip_markup("Tap <b>Get Help</b> in Orders.") == "Tap Get Help in Orders."
    assert strip_markup("Amounts under $5 & over $2 < $10.") == "Amounts under $5 & over $2 < $10."


@pytest.mark.parametrize(
    "text",
    [
        "Write to support@evil.example for a refund.",
        "Call +1-415-555-0132 now.",
        "See https://evil.example/phish for details.",
        "Visit www.hoppa-refunds.com today.",
    ],
)
def test_a_contact_the_passages_do_not_give_is_unsourced(text: str) -> None:
    passages = ["Open Orders, select the order and tap Get Help.", "Email help@hoppa.com."]
    assert unsourced_contacts(text, passages) == contacts(text)
    assert contacts(text)


def test_a_contact_from_the_passages_is_fine_however_it_is_written() -> None:
    passages = ["Email help@hoppa.com or call (415) 555-0132, or see https://hoppa.com/help."]
    answer = "Write to HELP@hoppa.com, call 415-555-0132 or open hoppa.com/help."
    assert unsourced_contacts(answer, passages) == []
