"""Personal data found in text and redacted before it reaches the model, the logs or the store.

Four kinds are recognised, each replaced by a placeholder (the same one for every occurrence):

    email     jane.doe+orders@example.co.uk                         -> [EMAIL]
    phone     +44 20 7946 0958, +1-415-555-0132, (415) 555-0132,    -> [PHONE]
              415.555.0132, 07700 900123, 020 7946 0958
    card      13 to 19 digits, optionally grouped by spaces or      -> [CARD]
              dashes, that pass the Luhn check
    address   a house number, one to four capitalised words and a   -> [ADDRESS]
              street suffix ("221B Baker Street", "350 5th Ave"),
              with an optional unit ("Flat 2", "Apt 4B") and an
              optional US ZIP (with city and state) or UK postcode

Precision matters as much as recall here: support text is full of numbers that are not personal
(amounts like $1,234.56, times, dates, durations, order numbers like #48213, percentages,
version numbers, 16-digit order references that fail the Luhn check), and redacting them would
take facts away from the model. So phone numbers need a recognisable layout and at least nine
digits, numbers glued to ``$ # . , / :`` or letters are left alone, and cards must pass Luhn.
An ungrouped 10-digit number without ``+`` (4155550132) is not taken for a phone: it is as
likely an order reference. Contiguous numbers starting with 0 (07700900123) are UK phones.

When matches overlap the more specific kind wins: email, then card, then phone, then address
(so digits that are both a valid card and phone-shaped are a card).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

PiiKind = Literal["email", "phone", "card", "address"]

PLACEHOLDERS: dict[PiiKind, str] = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "card": "[CARD]",
    "address": "[ADDRESS]",
}
# Earlier kinds win overlaps.
_PRIORITY: tuple[PiiKind, ...] = ("email", "card", "phone", "address")

_MIN_PHONE_DIGITS = 9
_MAX_PHONE_DIGITS = 15  # E.164
_MIN_CARD_DIGITS = 13
_MAX_CARD_DIGITS = 19

_EMAIL = re.compile(
    r"(?<![\w.%+'-])[A-Za-z0-9](?:[A-Za-z0-9._%+'-]*[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![\w-])"
)

# A number must not continue a word, an amount, an id, a decimal, a date or a time.
_NUM_START = r"(?<![\w$£€#%.,/:+-])"
_NUM_END = r"(?![\w%]|[.,/:-]\d)"

_CARD = re.compile(
    _NUM_START + r"(?:"
    r"\d{4}(?P<s1>[ -])\d{4}(?P=s1)\d{4}(?P=s1)\d{1,4}(?:(?P=s1)\d{1,3})?"  # 4-4-4-4(-3)
    r"|\d{4}(?P<s2>[ -])\d{6}(?P=s2)\d{4,5}"  # 4-6-5 (Amex), 4-6-4 (Diners)
    r"|\d{13,19}"
    r")" + _NUM_END
)

_SEP = r"[ .-]"
_PHONE = re.compile(
    # International: +44 20 7946 0958, +1-415-555-0132, +44 (0)20 7946 0958, +33 1 23 45 67 89
    r"(?:(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?[ .-]?\d{1,4}(?:[ .-]?\d{2,4}){1,5}"
    r"|" + _NUM_START + r"(?:"
    # North American: (415) 555-0132, 415-555-0132, 415.555.0132, 1-415-555-0132
    r"(?:1" + _SEP + r")?(?:\(\d{3}\) ?|\d{3}" + _SEP + r")\d{3}" + _SEP + r"\d{4}"
    # UK: 07700 900123, 020 7946 0958, 0161 496 0000, 01632 960123, 07700900123
    r"|\(?0\d{2,4}\)?[ -]?\d{3,4}[ -]?\d{3,4}"
    r"))" + _NUM_END
)

_SUFFIXES = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace"
)
_UNIT = r"(?:Apartment|Apt|Flat|Unit|Suite|Ste|Floor|Fl|#)\.?\s?[A-Za-z0-9-]{1,6}"
_WORD = r"(?:[A-Z][A-Za-z'\u2019-]*\.?|\d{1,3}(?:st|nd|rd|th))"
_US_ZIP = r"(?:[A-Z][a-z]+(?: [A-Z][a-z]+){0,2},? )?(?:[A-Z]{2} )?\d{5}(?:-\d{4})?"
_UK_POSTCODE = r"(?:[A-Z][a-z]+(?: [A-Z][a-z]+){0,2},? )?[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"
_ADDRESS = re.compile(
    r"(?:\b" + _UNIT + r",?\s+)?" + _NUM_START + r"\d{1,5}[A-Za-z]?\s+"
    r"(?:" + _WORD + r"\s+){1,4}"
    r"(?:" + _SUFFIXES + r")\b(?:\.(?=,))?"
    r"(?!\s+(?:Order|Button|Tab|Screen|Menu)\b)"  # the app's "Place Order" button
    r"(?:,?\s+" + _UNIT + r"\b)?"
    r"(?:,?\s+(?:" + _US_ZIP + r"|" + _UK_POSTCODE + r")\b)?"
)


class PiiMatch(BaseModel):
    """One piece of personal data: its kind and its span ``text[start:end]``."""

    kind: PiiKind
    start: int
    end: int
    text: str


class Redaction(BaseModel):
    """The text with every match replaced by its kind's placeholder, and what was replaced.

    Offsets in ``matches`` refer to the original text, not to the redacted one.
    """

    text: str
    matches: list[PiiMatch] = Field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.matches)

    def kinds(self) -> list[str]:
        """The kinds found, each once, in the order of their first occurrence."""
        return list(dict.fromkeys(match.kind for match in self.matches))


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum (all-zero strings do not)."""
    if not digits.isdigit() or not digits.strip("0"):
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _candidates(text: str) -> list[PiiMatch]:
    found: list[PiiMatch] = []

    def add(kind: PiiKind, match: re.Match[str]) -> None:
        found.append(PiiMatch(kind=kind, start=match.start(), end=match.end(), text=match[0]))

    for match in _EMAIL.finditer(text):
        add("email", match)
    for match in _CARD.finditer(text):
        digits = _digits(match[0])
        if _MIN_CARD_DIGITS <= len(digits) <= _MAX_CARD_DIGITS and luhn_valid(digits):
            add("card", match)
    for match in _PHONE.finditer(text):
        if _MIN_PHONE_DIGITS <= len(_digits(match[0])) <= _MAX_PHONE_DIGITS:
            add("phone", match)
    for match in _ADDRESS.finditer(text):
        add("address", match)
    return found


def find_pii(text: str) -> list[PiiMatch]:
    """Every piece of personal data in ``text``, in order, with no two matches overlapping."""
    ranked = sorted(
        _candidates(text),
        key=lambda m: (_PRIORITY.index(m.kind), -(m.end - m.start), m.start),
    )
    kept: list[PiiMatch] = []
    for candidate in ranked:
        if all(candidate.end <= other.start or candidate.start >= other.end for other in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda m: m.start)


def redact(text: str) -> Redaction:
    """``text`` with each piece of personal data replaced by ``[EMAIL]``, ``[PHONE]``, etc."""
    matches = find_pii(text)
    parts: list[str] = []
    cursor = 0
    for match in matches:
        parts.append(text[cursor : match.start])
        parts.append(PLACEHOLDERS[match.kind])
        cursor = match.end
    parts.append(text[cursor:])
    return Redaction(text="".join(parts), matches=matches)
