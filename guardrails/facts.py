"""Checkable facts in a sentence: amounts, percentages, dates, times, durations, numbers, names.

Cosine similarity cannot tell "within 7 days" from "within 30 days"; these pure functions can.
Facts are normalised strings, so that "two weeks", "2 weeks" and "2-week" compare equal:

    "$2.50"  "15%"  "11-21" / "2026-11-21"  "17:00"  "7 days"  "3-5 business days"  "25"
    "Instant Pay"  (a run of capitalised words that does not start the sentence)

Every fact with a digit is a *quantity*; the others are names. Evidence supports a quantity when
it states the same one, possibly in other units ("48 hours" for "2 days"; a range covers its
ends; "5 business days" covers "5 days"), and a name when it contains the name, in any case.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from guardrails.sentences import split_sentences

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_TEENS = ["eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"]
_TEENS += ["eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_VALUES = {word: n for n, word in enumerate(_ONES)}
_WORD_VALUES |= {word: n for n, word in enumerate(_TEENS, start=11)}
_WORD_VALUES |= {word: 10 * n for n, word in enumerate(_TENS, start=2)}

_SMALL = "|".join(sorted([*_ONES, *_TEENS], key=len, reverse=True))
_WORD_NUMBER = rf"(?:(?:{'|'.join(_TENS)})(?:[-\s](?:{'|'.join(_ONES[1:10])}))?|{_SMALL})"
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_NUMBER = rf"(?:{_DIGITS}|\b{_WORD_NUMBER}\b)"

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
_MONTH += r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"

# Units of the same family convert into each other (factors in the family's smallest unit).
_TIME_UNITS = {"minute": 1, "hour": 60, "day": 1440, "week": 10080}
_CALENDAR_UNITS = {"month": 1, "year": 12}
_UNIT_ALIASES = {"min": "minute", "mins": "minute", "hr": "hour", "hrs": "hour"}
_UNIT = r"(?:business |working |calendar )?(?:minute|min|hour|hr|day|week|month|year)s?"

_NAME_WORD = r"[A-Z][^\W\d_]*(?:['\u2019][^\W\d_]+)?"
_NAME_RUN = re.compile(rf"\b{_NAME_WORD}(?:[ \t]+{_NAME_WORD})*")
_NOT_NAMES = frozenset({"I", "I'm", "I\u2019m", "I'll", "I've", "I'd", "OK", "Okay"})
_CLAUSE = re.compile(r"[:;]\s+|[\"\u201c(]")
_NUMBER_IN_FACT = re.compile(r"\d+(?:\.\d+)?")
_LIST_NUMBER = re.compile(r"^\s*(\d{1,2})[.)]\s", re.MULTILINE)

Rule = Callable[[re.Match[str]], list[str]]


def _value(text: str) -> Decimal | None:
    """The number written as digits or as English words ("twenty-four")."""
    words = text.lower().replace("-", " ").split()
    if words and all(word in _WORD_VALUES for word in words):
        return Decimal(sum(_WORD_VALUES[word] for word in words))
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def number_word_value(word: str) -> str | None:
    """The digits of one English number word ("two" is "2"), or None for any other word."""
    value = _WORD_VALUES.get(word.lower())
    return None if value is None else str(value)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _money(match: re.Match[str]) -> list[str]:
    symbol = match.group("symbol") or "$"
    amount = _value(match.group("amount") or match.group("spoken"))
    if amount is None:
        return []
    if match.group("cents"):
        amount /= 100
    shown = _fmt(amount) if amount == amount.to_integral_value() else f"{amount:.2f}"
    return [f"{symbol}{shown}"]


def _percent(match: re.Match[str]) -> list[str]:
    value = _value(match.group("value"))
    return [f"{_fmt(value)}%"] if value is not None else []


def _date(year: str | None, month: int, day: int) -> list[str]:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return []
    short = f"{month:02d}-{day:02d}"
    if year is None:
        return [short]
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    return [f"{full_year}-{short}", short]


def _month_number(name: str) -> int:
    return _MONTHS.index(name[:3].lower()) + 1


def _named_date(match: re.Match[str]) -> list[str]:
    """Dates such as "Nov 21, 2026" or "21 November"."""
    month = _month_number(match.group("month") or match.group("month2"))
    day = int(match.group("day") or match.group("day2"))
    return _date(match.group("year") or match.group("year2"), month, day)


def _numeric_date(match: re.Match[str]) -> list[str]:
    if match.group("iso"):
        year, month, day = match.group("iso").split("-")
        return _date(year, int(month), int(day))
    return _date(match.group("year"), int(match.group("month")), int(match.group("day")))


def _clock(match: re.Match[str]) -> list[str]:
    """Times such as "5 p.m.", "9:30am" or "17:00", as 24-hour "HH:MM"."""
    hour = int(match.group("hour") or match.group("hour2"))
    minute = int(match.group("minute") or match.group("minute2") or 0)
    half = (match.group("half") or "").lower()
    if half and not 1 <= hour <= 12:
        return []
    if half:
        hour = hour % 12 + (12 if half == "p" else 0)
    return [f"{hour:02d}:{minute:02d}"] if hour < 24 and minute < 60 else []


def _named_time(match: re.Match[str]) -> list[str]:
    return ["12:00" if match.group(0).lower() == "noon" else "00:00"]


def _span(low: Decimal, high: Decimal | None, unit: str) -> str:
    if high is None:
        return f"{_fmt(low)} {unit}" + ("" if low == 1 else "s")
    return f"{_fmt(low)}-{_fmt(high)} {unit}s"


def _spans(low: Decimal, high: Decimal | None, unit: str) -> list[str]:
    """The span in ``unit``, then the same span in each other unit of its family it fits."""
    if unit == "business day":
        return [_span(low, high, unit), _span(low, high, "day")]
    family = _TIME_UNITS if unit in _TIME_UNITS else _CALENDAR_UNITS
    spans = [_span(low, high, unit)]
    for other, factor in family.items():
        low_other = low * family[unit] / factor
        high_other = high * family[unit] / factor if high is not None else None
        ends = [end for end in (low_other, high_other) if end is not None]
        if other != unit and all(end == end.to_integral_value() for end in ends):
            spans.append(_span(low_other, high_other, other))
    return spans


def _duration(match: re.Match[str]) -> list[str]:
    """The duration as written (in digits), then its equivalents; a range also covers its ends."""
    low = _value(match.group("low"))
    high = _value(match.group("high")) if match.group("high") else None
    if low is None or (match.group("high") and high is None):
        return []
    words = match.group("unit").lower().rstrip("s").split()
    unit = _UNIT_ALIASES.get(words[-1], words[-1])
    if words[0] in ("business", "working"):
        unit = "business day"
    if high is None:
        return _spans(low, None, unit)
    return [*_spans(low, high, unit), *_spans(low, None, unit), *_spans(high, None, unit)]


def _number(match: re.Match[str]) -> list[str]:
    value = _value(match.group(0))
    return [_fmt(value)] if value is not None else []


_IGNORE = re.IGNORECASE
_RULES: list[tuple[re.Pattern[str], Rule]] = [
    (
        re.compile(
            rf"(?P<symbol>[$€£])\s?(?P<amount>{_DIGITS})"
            rf"|(?P<spoken>{_NUMBER})\s*(?:dollars?|usd|bucks|(?P<cents>cents?))\b",
            _IGNORE,
        ),
        _money,
    ),
    (re.compile(rf"(?P<value>{_NUMBER})\s*(?:%|percent\b|per cent\b)", _IGNORE), _percent),
    (
        re.compile(
            rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{{4}}))?"
            rf"|\b(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month2>{_MONTH})\b\.?"
            rf"(?:,?\s+(?P<year2>\d{{4}}))?",
            _IGNORE,
        ),
        _named_date,
    ),
    (
        re.compile(
            r"\b(?P<iso>\d{4}-\d{1,2}-\d{1,2})\b"
            r"|\b(?P<month>\d{1,2})/(?P<day>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?\b"
        ),
        _numeric_date,
    ),
    (
        re.compile(
            r"\b(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<half>[ap])\.?m\b\.?"
            r"|\b(?P<hour2>[01]?\d|2[0-3]):(?P<minute2>[0-5]\d)\b",
            _IGNORE,
        ),
        _clock,
    ),
    (re.compile(r"\b(?:noon|midnight)\b", _IGNORE), _named_time),
    (
        re.compile(
            rf"(?P<low>{_NUMBER})(?:\s*(?:-|\u2013|to)\s*(?P<high>{_NUMBER}))?[\s-]+(?P<unit>{_UNIT})\b",
            _IGNORE,
        ),
        _duration,
    ),
    (re.compile(rf"(?<![\w.,]){_DIGITS}(?![\w])"), _number),
]


def _quantities(sentence: str) -> tuple[dict[str, list[str]], str]:
    """Each quantity (normalised) with its equivalent forms, and the sentence with them blanked."""
    found: dict[str, list[str]] = {}
    for pattern, rule in _RULES:
        pieces: list[str] = []
        last = 0
        for match in pattern.finditer(sentence):
            forms = rule(match)
            if forms:
                found.setdefault(forms[0], []).extend(forms[1:])
                pieces += [sentence[last : match.start()], " , "]
                last = match.end()
        sentence = "".join([*pieces, sentence[last:]])
    return found, sentence


def _names(masked_sentence: str) -> set[str]:
    """Runs of capitalised words, leaving out the word that starts the sentence or a clause."""
    names: set[str] = set()
    clause_starts = {0} | {m.end() for m in _CLAUSE.finditer(masked_sentence)}
    for match in _NAME_RUN.finditer(masked_sentence):
        words = match.group(0).split()
        if masked_sentence[: match.start()].strip(" ,") == "" or match.start() in clause_starts:
            words = words[1:]
        name = re.sub(r"['\u2019]s$", "", " ".join(words))
        if name and name not in _NOT_NAMES:
            names.add(name)
    return names


def is_quantity(fact: str) -> bool:
    """Whether ``fact`` is a number, amount, percentage, date, time or duration (not a name)."""
    return any(ch.isdigit() for ch in fact)


def extract_facts(text: str) -> set[str]:
    """The normalised facts stated in ``text``."""
    facts: set[str] = set()
    for sentence in split_sentences(text):
        quantities, masked = _quantities(sentence)
        facts |= quantities.keys() | _names(masked)
    return facts


@lru_cache(maxsize=4096)
def _supported_quantities(text: str) -> frozenset[str]:
    """Every quantity ``text`` states, in each equivalent form, every number inside them, and
    the numbers of its numbered lists (so that "in step 2" is supported)."""
    keys: set[str] = set()
    for sentence in split_sentences(text):
        quantities, _ = _quantities(sentence)
        for fact, equivalents in quantities.items():
            keys |= {fact, *equivalents}
    numbers = {_fmt(Decimal(n)) for key in keys for n in _NUMBER_IN_FACT.findall(key)}
    return frozenset(keys | numbers | set(_LIST_NUMBER.findall(text)))


def missing_facts(sentence: str, evidence_texts: Iterable[str]) -> list[str]:
    """The facts of ``sentence`` that none of ``evidence_texts`` states, sorted."""
    texts = list(evidence_texts)
    facts = extract_facts(sentence)
    if not facts:
        return []
    quantities = set().union(*(_supported_quantities(text) for text in texts))
    plain = " ".join(" ".join(texts).lower().split())
    return sorted(
        fact
        for fact in facts
        if not (
            fact in quantities
            if is_quantity(fact)
            else re.search(rf"(?<!\w){re.escape(fact.lower())}(?!\w)", plain)
        )
    )
