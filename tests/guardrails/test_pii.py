from __future__ import annotations

import pytest

from guardrails.pii import PiiMatch, Redaction, find_pii, luhn_valid, redact


def only_match(text: str) -> PiiMatch:
    matches = find_pii(text)
    assert len(matches) == 1, matches
    return matches[0]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("jane.doe@example.com", "email"),
        ("j.o'neil+orders@mail.example.co.uk", "email"),
        ("support_team-42@sub.domain.io", "email"),
        ("+44 20 7946 0958", "phone"),
        ("+1-415-555-0132", "phone"),
        ("+14155550132", "phone"),
        ("+44 (0)20 7946 0958", "phone"),
        ("(415) 555-0132", "phone"),
        ("415-555-0132", "phone"),
        ("415.555.0132", "phone"),
        ("415 555 0132", "phone"),
        ("1-415-555-0132", "phone"),
        ("07700 900123", "phone"),
        ("07700900123", "phone"),
        ("020 7946 0958", "phone"),
        ("0161 496 0000", "phone"),
        ("4111 1111 1111 1111", "card"),
        ("4111-1111-1111-1111", "card"),
        ("4242424242424242", "card"),
        ("5555 5555 5555 4444", "card"),
        ("3782 822463 10005", "card"),  # Amex, 4-6-5
        ("4222222222222", "card"),  # 13 digits
        ("221B Baker Street", "address"),
        ("10 Downing St", "address"),
        ("742 Evergreen Terrace", "address"),
        ("1600 Pennsylvania Avenue", "address"),
        ("350 5th Ave", "address"),
        ("4 Privet Drive", "address"),
        ("12 Market Place", "address"),
        ("9 Old Mill Ln", "address"),
        ("77 Sunset Blvd., Los Angeles, CA 90028", "address"),
        ("123 Main St, Apt 4B", "address"),
        ("Flat 2, 12 Baker St", "address"),
        ("221B Baker Street, London NW1 6XE", "address"),
        ("123 Main St, Apt 4B, Springfield, IL 62704", "address"),
        ("350 5th Ave, New York, NY 10118-0110", "address"),
    ],
)
def test_finds_each_kind_with_exact_span(value: str, kind: str) -> None:
    text = f"Details: {value}. Thanks"
    match = only_match(text)
    assert match.kind == kind
    assert match.text == value
    assert text[match.start : match.end] == value


@pytest.mark.parametrize(
    "text",
    [
        "Each Instant Pay cash-out costs $0.85.",
        "You were charged $1,234.56 and then £12.50.",
        "The store opens at 10:30 am and closes at 22:00.",
        "Delivered on 2026-11-22, or 11/22/2026 in US format.",
        "Refunds must be requested within 7 days of delivery.",
        "The courier will arrive in 30 minutes.",
        "Your order #48213 is on its way.",
        "Order #4155550132 and ref #4111111111111111 are ids.",
        "Reference 4155550132 has no phone layout.",
        "Service fees are 15% of the subtotal, up to 5 times per day.",
        "Give it 42 seconds, then try again.",
        "Update the app to v2.3.1 or 10.2.3.4567.",
        "Order reference 1234 5678 9012 3456 fails the check.",
        "Order reference 1234567890123456 fails the check.",
        "Ids like 2026-11-22-0930 and 12-34-56 are not phones.",
        "Step 3 Tap Place Order to confirm.",
        "Call us at 4155 or 555-0132.",
        "Write to support at example dot com.",
    ],
)
def test_does_not_match_non_personal_numbers_and_text(text: str) -> None:
    assert find_pii(text) == []
    assert redact(text) == Redaction(text=text, matches=[])


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("1234567890123456")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("0000000000000000")
    assert not luhn_valid("4111 1111 1111 1111")


def test_sixteen_digits_failing_luhn_are_not_a_card_but_passing_ones_are() -> None:
    assert find_pii("Card 4111 1111 1111 1112 please") == []
    assert only_match("Card 4111 1111 1111 1111 please").kind == "card"


def test_card_wins_over_phone_on_the_same_digits() -> None:
    # The first twelve digits alone are a UK-style phone number...
    assert only_match("Ref 0412 3456 7890 ok").kind == "phone"
    # ...but with the Luhn check digit the whole is a card, and no phone is reported inside it.
    match = only_match("Ref 0412 3456 7890 120 ok")
    assert match.kind == "card"
    assert match.text == "0412 3456 7890 120"


def test_email_wins_over_the_digits_inside_it() -> None:
    match = only_match("Write to 4155550132@example.com today")
    assert match.kind == "email"
    assert match.text == "4155550132@example.com"


def test_mixed_text_finds_every_kind_in_order() -> None:
    text = (
        "I'm Jane (jane@example.com, +1-415-555-0132). Card 4111 1111 1111 1111 was charged "
        "$23.40 at 10:30 am for order #48213 to 221B Baker Street, London NW1 6XE."
    )
    matches = find_pii(text)
    assert [(m.kind, m.text) for m in matches] == [
        ("email", "jane@example.com"),
        ("phone", "+1-415-555-0132"),
        ("card", "4111 1111 1111 1111"),
        ("address", "221B Baker Street, London NW1 6XE"),
    ]
    assert [m.start for m in matches] == sorted(m.start for m in matches)


def test_redact_replaces_each_match_with_its_placeholder() -> None:
    text = (
        "Email jane@example.com or bob@example.org, call (415) 555-0132, card 4242424242424242, "
        "ship to 12 Baker St. Total $0.85 within 7 days."
    )
    result = redact(text)
    assert result.text == (
        "Email [EMAIL] or [EMAIL], call [PHONE], card [CARD], "
        "ship to [ADDRESS]. Total $0.85 within 7 days."
    )
    assert result.found
    assert result.kinds() == ["email", "phone", "card", "address"]
    assert [m.text for m in result.matches] == [
        "jane@example.com",
        "bob@example.org",
        "(415) 555-0132",
        "4242424242424242",
        "12 Baker St",
    ]
    for match in result.matches:
        assert text[match.start : match.end] == match.text


def test_redact_without_pii_keeps_the_text() -> None:
    text = "Your order #48213 costs $12.99 and arrives within 30 minutes."
    result = redact(text)
    assert result.text == text
    assert not result.found
    assert result.kinds() == []


def test_redact_empty_text() -> None:
    assert redact("") == Redaction(text="", matches=[])
