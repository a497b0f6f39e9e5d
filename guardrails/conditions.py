"""Does a "Yes" hold for the customer? Quantitative conditions of the evidence against the
customer's own quantities. Pure and deterministic: no model.

A small model answers "Yes, you get your fee back" when the knowledge base says "more than 20
minutes late" and the customer said 12. Tier 1 cannot see it: every word of the answer is in
the evidence. This check reads the evidence's conditions (a comparator and a quantity:
"within 7 days", "at least $10.00", "21 or older", "up to 5 times per day", "more than 1 mile"),
the customer's quantities of the same kind ("10 days ago", "$7.50", "I'm 19", "six times
today", "half a mile"), and whether each condition holds for them.

* Quantities are intervals: "a month" is 28 to 31 days, "about 2 weeks" 12 to 16 days, "more
  than an hour" an hour or longer, "7 business days" 7 to 11.8 calendar days. A condition is
  met or failed only when it is for the whole interval; otherwise there is no finding.
* A condition whose clause closes a door ("After 7 days the Get Help option closes", "older
  than 6 months are blocked", "more than 1 mile away, the app won't allow") *prohibits* when
  met; the others allow when met. One whose consequence is a side effect ("go to manual
  review", "contact support") is not a condition of a yes.
* Each customer quantity is held against the conditions of its kind that apply to the customer
  (one scoped "to deliver by car" needs a car mentioned) and whose sentence shares the most
  words with the customer's clause around the quantity, their question and the answer; a
  duration or an amount must share at least one (they are in every article), and an answer
  restating a condition's quantity points at that condition.
* Only an answer that *affirms* is contradicted: "Yes" to "Can I still ...?", or "No" to "Is it
  too late ...?". A denial is never flagged here: it may rest on a condition this check cannot
  read (a licence, a Plus order, an earlier refund), and the judge still reads every yes/no
  answer, so a wrong "No" is not passed unchecked (tier 1 never passes a yes/no on its own).

Number words come from guardrails/facts.py; its ``extract_facts`` gives normalised strings
without positions or comparators, so the quantities are read here.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from guardrails.facts import number_word_value
from guardrails.lexical import content_words
from guardrails.sentences import split_sentences

Op = Literal["<=", "<", ">=", ">", "after"]
INF = math.inf
_DAY = 1440.0  # durations are in minutes

# --- What a quantity is ------------------------------------------------------------------------

# unit -> (kind, smallest and largest size in the kind's base unit)
UNITS: dict[str, tuple[str, float, float]] = {
    "second": ("duration", 1 / 60, 1 / 60),
    "minute": ("duration", 1, 1),
    "hour": ("duration", 60, 60),
    "day": ("duration", _DAY, _DAY),
    "week": ("duration", 7 * _DAY, 7 * _DAY),
    "fortnight": ("duration", 14 * _DAY, 14 * _DAY),
    "month": ("duration", 28 * _DAY, 31 * _DAY),
    "year": ("duration", 365 * _DAY, 366 * _DAY),
    "mile": ("distance", 1, 1),
    "km": ("distance", 0.621, 0.622),
    "mb": ("storage", 1, 1),
    "gb": ("storage", 1000, 1024),
    "lb": ("weight", 1, 1),
    "kg": ("weight", 2.204, 2.205),
    "w": ("power", 1, 1),
    "liter": ("volume", 1, 1),
}
# Other spellings of the units, singular (a plural loses its "s" first: "mins", "lbs").
UNIT_ALIASES = {
    "sec": "second", "min": "minute", "hr": "hour", "mi": "mile", "kilometer": "km",
    "kilometre": "km", "pound": "lb", "kilogram": "kg", "watt": "w", "litre": "liter",
}  # fmt: skip
# Kinds stated in nearly every article: a condition of one must also share a word with the
# customer's sentence or the answer (a count is matched by its noun, an age or a weight by kind).
NEEDS_WORDS = frozenset({"duration", "money"})
# Words too common in the knowledge base to tie a condition to the customer's case (with the
# business's own name: ConditionWords.names).
COMMON_WORDS = frozenset({"app"})
# An answer restating a condition's quantity ("Yes, it must stay at 80% or higher") is about it:
# worth this many shared words.
RESTATED = 2
# A business day is a calendar day, or up to 7/5 of one plus a weekend on a span of them.
BUSINESS_STRETCH = (1.4, 2 * _DAY)

# Number words facts.py does not read as one number.
SPOKEN = {"a": 1, "an": 1, "half a": 0.5, "half an": 0.5}
SPOKEN_RANGES = {"a couple of": (2, 3), "couple of": (2, 3), "a few": (2, 4)}
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]
ORDINALS += ["ninth", "tenth", "eleventh", "twelfth"]

# The words facts.py reads as numbers (number_word_value), for the patterns below.
NUMBER_WORDS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
]  # fmt: skip
_WORDS = sorted(NUMBER_WORDS, key=len, reverse=True)
_NUM_WORD = rf"(?:{'|'.join(_WORDS)})(?:-(?:{'|'.join(_WORDS)}))?"
_NUM = (
    rf"(?:\d+(?:,\d{{3}})*(?:\.\d+)?|half an?|a couple of|couple of|a few|an?|{_NUM_WORD})"
    r"(?:\s+and\s+a\s+half)?"
)
_UNIT_WORDS = sorted([*UNITS, *UNIT_ALIASES], key=len, reverse=True)
_UNIT_RE = "|".join(re.escape(u) for u in _UNIT_WORDS)
_MEASURE = re.compile(
    rf"\b(?P<num>{_NUM})[\s-]*(?P<business>business |working |calendar )?"
    rf"(?P<unit>(?:{_UNIT_RE})s?)\b(?P<half>\s+and\s+a\s+half)?"
    r"|(?P<pnum>\d+(?:\.\d+)?)\s*(?P<pct>%|percent\b)"
)
_MONEY = re.compile(
    rf"\$\s?(?P<num>\d[\d,]*(?:\.\d+)?)|\b(?P<spoken>{_NUM})\s+(?:dollars?|bucks)\b"
)
_RATE = re.compile(r"^\s*(?:per|an|a|each|/)\s*(?:online\s+)?(?P<per>hour|day|week|month|order)")
_AGE_STATED = re.compile(rf"\b(?P<num>{_NUM})[\s-]+years?[\s-]+(?:old|of age)\b")
_AGE_SAID = re.compile(
    r"\b(?:i'm|i am|im|he's|he is|she's|she is|they're|they are|is|are|turned|turning|aged?)"
    rf"\s+(?:only |just |now |still |about )?(?P<num>\d{{1,3}}|{_NUM_WORD})\b"
    rf"(?![\s-]*(?:[%$\d]|[.,]\d|(?:{_UNIT_RE})s?\b|[a-z]+s\b))"
)
_COUNT = re.compile(rf"\b(?P<num>{_NUM})\s+(?P<words>[a-z][a-z'-]*(?:\s+[a-z][a-z'-]*){{0,2}})")
_ORDINAL = re.compile(
    rf"\b(?P<num>{'|'.join(ORDINALS)}|\d+(?:st|nd|rd|th))\s+"
    r"(?P<words>[a-z][a-z'-]*(?:\s+[a-z][a-z'-]*){0,2})"
)
_TIMES = re.compile(r"\b(?:once|twice)\b")
_BARE = re.compile(r"(?<![\w.$])(?P<num>\d{2,3})(?![\w.,%]|\s*[\u00d7x]\s*\d)")  # not "24 x 16"
# Words that end the noun of a count ("5 codes per hour", "25 deliveries and 7 days").
_NOT_NOUNS = frozenset({
    "and", "or", "but", "per", "in", "a", "an", "the", "of", "to", "from", "for", "on", "at",
    "by", "with", "within", "this", "that", "these", "those", "today", "yesterday", "so", "far",
    "already", "now", "still", "more", "less", "older", "younger", "higher", "lower", "fewer",
    "who", "which", "than", "out", "is", "are", "was", "were", "has", "have", "had", "i", "you",
    "we", "they", "it", "my", "your",
})  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Quantity:
    """A quantity as an interval ``[low, high]`` of its kind's base unit, and where it is."""

    kind: str  # "duration", "money", "money/hour", "age", "count:delivery", ...
    low: float
    high: float
    text: str
    start: int
    end: int
    business: bool = False  # in business days


def _number(text: str) -> tuple[float, float] | None:
    """The value of a number as written ("12", "1,000", "twenty-four", "a couple of")."""
    text = text.strip().lower()
    half = 0.5 if text.endswith(" and a half") else 0.0
    text = text.removesuffix(" and a half")
    if text in SPOKEN_RANGES:
        return SPOKEN_RANGES[text]
    if text in SPOKEN:
        value: float | None = SPOKEN[text]
    elif re.fullmatch(r"[\d,]+(?:\.\d+)?", text):
        value = float(text.replace(",", ""))
    else:
        parts = [number_word_value(word) for word in text.split("-")]
        value = sum(float(p) for p in parts if p) if parts and all(parts) else None
    return None if value is None else (value + half, value + half)


def _noun(words: str) -> str | None:
    """The counted noun, singular: "refund requests in" -> "request"."""
    taken: list[str] = []
    for word in words.split():
        if word in _NOT_NOUNS or word in UNITS or word.rstrip("s") in UNIT_ALIASES:
            break
        taken.append(word)
        if word.endswith("s") and not word.endswith("ss"):
            break
    if not taken or not taken[-1].endswith("s"):
        return None
    head = taken[-1]
    if head.endswith("ies"):
        return head[:-3] + "y"
    return head[:-2] if re.search(r"(?:ch|sh|ss|x)es$", head) else head[:-1]


def _make(
    kind: str,
    value: tuple[float, float],
    m: re.Match[str],
    unit: tuple[float, float] = (1, 1),
    business: bool = False,
) -> Quantity:
    """The quantity ``m`` matched: ``value`` times the ``unit``'s smallest and largest size."""
    low, high = value[0] * unit[0], value[1] * unit[1]
    return Quantity(kind, low, high, m.group(0).strip(), m.start(), m.end(), business)


def _measures(text: str) -> Iterable[Quantity]:
    for m in _MEASURE.finditer(text):
        if m.group("pct"):
            yield _make("percent", _number(m.group("pnum")) or (0, 0), m)
            continue
        value = _number(m.group("num"))
        unit = m.group("unit")
        unit = unit if unit in UNITS else unit.removesuffix("s")
        unit = UNIT_ALIASES.get(unit, unit)
        if value is None or unit not in UNITS:
            continue
        if m.group("half"):  # "an hour and a half"
            value = (value[0] + 0.5, value[1] + 0.5)
        kind, low, high = UNITS[unit]
        business = (m.group("business") or "").strip() in ("business", "working")
        yield _make(kind, value, m, (low, high), business)


def _money(text: str) -> Iterable[Quantity]:
    for m in _MONEY.finditer(text):
        value = _number(m.group("num") or m.group("spoken"))
        if value is None:
            continue
        rate = _RATE.match(text[m.end() :])
        yield _make(f"money/{rate.group('per')}" if rate else "money", value, m)


def _ages(text: str, said: bool) -> Iterable[Quantity]:
    for pattern in (_AGE_STATED, _AGE_SAID) if said else (_AGE_STATED,):
        for m in pattern.finditer(text):
            value = _number(m.group("num"))
            if value is not None and 1 <= value[0] <= 120:
                yield _make("age", value, m)


def _counts(text: str, said: bool) -> Iterable[Quantity]:
    for m in _COUNT.finditer(text):
        value, noun = _number(m.group("num")), _noun(m.group("words"))
        if value is not None and noun and m.group("num") not in ("a", "an"):
            yield _make(f"count:{noun}", value, m)
    for m in _TIMES.finditer(text):
        yield _make("count:time", (1, 1) if m.group(0) == "once" else (2, 2), m)
    if said:  # "my fourth dispute this month" is the fourth
        for m in _ORDINAL.finditer(text):
            word = m.group("num")
            n = ORDINALS.index(word) + 1 if word in ORDINALS else int(word[:-2])
            noun = _noun(m.group("words").split()[0] + "s")
            if noun and n > 1:
                yield _make(f"count:{noun}", (n, n), m)


def quantities(text: str, *, said: bool = False) -> list[Quantity]:
    """The quantities of ``text``, left to right, none overlapping another; ``said``: the
    customer's words ("I'm 19" is an age, "my fourth dispute" a count)."""
    found: list[Quantity] = []
    text = text.lower()
    sources = [_ages(text, said), _money(text), _measures(text), _counts(text, said)]
    for quantity in (q for source in sources for q in source):
        if all(quantity.end <= q.start or quantity.start >= q.end for q in found):
            found.append(quantity)
    return sorted(found, key=lambda q: q.start)


# --- What a condition is -----------------------------------------------------------------------

# A comparator just before a quantity, then one just after; the first that matches decides.
BEFORE: list[tuple[str, Op]] = [
    (r"wait until|wait at least", ">="),  # "wait until 2 hours after the delivery"
    (r"no later than|up to|until|at most|no more than|not more than|a maximum of", "<="),
    (r"maximum(?: \w+)?:|max(?: \w+)?:|within", "<="),
    (r"less than|fewer than|under|below|shorter than|younger than", "<"),
    (r"more than|over|longer than|older than|greater than|above|exceeding", ">"),
    (r"at least|no less than|not less than|a minimum of|minimum(?: \w+)?:", ">="),
    (r"after", "after"),
]
# A verb that compares only a count: "reach 40 deliveries" (not "when you reach 12 hours").
COUNT_BEFORE: list[tuple[str, Op]] = [(r"reach(?:es)?|reached", ">=")]
AFTER: list[tuple[str, Op]] = [
    (r"\s*or (?:more|older|higher|longer|above|over)|\+|\s*and (?:up|over|above)", ">="),
    (r"\s*or (?:less|fewer|younger|lower|under|shorter|below)", "<="),
]
_FILLER = r"(?:\s+(?:a rolling|the first|a total of|any|the|a|an))?"
_BEFORE = [(re.compile(rf"\b(?:{words}){_FILLER}\s*$"), op) for words, op in BEFORE]
_COUNT_BEFORE = [(re.compile(rf"\b(?:{words})\s*$"), op) for words, op in COUNT_BEFORE]
_AFTER = [(re.compile(rf"^(?:{words})(?!\w)"), op) for words, op in AFTER]
# "up to 30 minutes before the window starts" is a deadline: at least 30 minutes before it.
_AHEAD = re.compile(r"^\s*(?:before|ahead|prior)\b")
_DEADLINE_WORDS = re.compile(r"\b(?:up to|until|no later than)\s*$")
# Words of a consequence that closes a door: the condition refuses when it holds.
CLOSING_WORDS = [
    "cannot", "not", "can never", "no longer", "closes", "closed", "expires?", "expired",
    "final", "blocked", "locked", "lose", "loses", "refuse[sd]?", "pauses", "paused",
    "disappears", "stops", "must wait", "have to wait", "instead", "deactivation review",
    "no-show", "late drop", "you pay", "pay the normal", r"(?:you're|you are|is|are) charged",
    r"no \w+ (?:is|are) (?:paid|given|sent|refunded)",
]  # fmt: skip
_CLOSES = re.compile(rf"n't\b|\b(?:{'|'.join(CLOSING_WORDS)})\b")
# "It doesn't have to be the person who ordered": a permission, not a closed door.
_PERMITS = re.compile(r"\b(?:doesn't|don't|do not|does not) (?:have|need) to\b|\bno need\b")
# Where a clause states its condition: "If X, Y", "Y as long as X", "once X".
_IF = re.compile(r"\b(?:if|when|once|as long as)\b")
_CONJUNCT = re.compile(r"\s(?:and|or|but)\s")
_ACTS = r"(?:\w+ )?(?:reviews|decides|sends|contacts|responds|compare)"
# A clause that states no bar: its consequence is a side effect, or it is hedged or an example.
NOT_A_BAR = [
    "manual review", "may review", "contact support", "warning", "usually", "typically",
    r"(?<!at )most", "ideally", "often", "for example", "^example",
    # how long the business takes, not what the customer must do: "Photo updates are reviewed
    # within" (the business's own name as the subject: ConditionWords.not_a_bar)
    r"(?:is|are|be) (?:reviewed|completed|finished|decided|resolved|added|sent|processed)",
    rf"(?:team|agent|person) {_ACTS}",
    "responds", r"takes? up to",
]  # fmt: skip
# One of several options ("before the restaurant accepts, or within 2 minutes, whichever is
# later"): failing it refuses nothing.
_WHICHEVER = re.compile(r"\bwhichever\b")
_OR_ITEM = re.compile(r",?\s+or\s*$")  # a list item "within 2 minutes of placing it, or"
_CLAUSE = re.compile(r"\s*(?:;|\s[\u2014\u2013]\s|\s--\s|,\s+(?=which\b))\s*")
# Words that narrow a condition to some customers: it applies only when they mention one (with
# the business's own: ConditionWords.scopes).
SCOPES = [
    "scheduled", "annual", "monthly", "alcohol", "e-bikes?", "cars?", "motorcycles?", "scooters?",
    "bicycles?", "bikes?", "on foot", "walking",
]  # fmt: skip


class ConditionWords(BaseModel):
    """A business's own words for this check (its profile's): the words of its name, too common
    in its articles to tie a condition to a case and, as a subject ("Acme reviews ..."), the
    mark of a clause that bars nothing; and phrases naming some of its customers ("pro
    couriers"), which narrow a condition to them."""

    model_config = ConfigDict(frozen=True)

    names: frozenset[str] = frozenset()
    scopes: tuple[str, ...] = Field(default=())

    @classmethod
    def of(cls, name: str, scopes: Iterable[str] = ()) -> ConditionWords:
        names = frozenset(re.findall(r"[a-z0-9]+", name.lower()))
        return cls(names=names, scopes=tuple(s.lower() for s in scopes))

    @property
    def common(self) -> frozenset[str]:
        """COMMON_WORDS and the name's words, as content_words() gives them."""
        return COMMON_WORDS | frozenset(content_words(" ".join(sorted(self.names))))

    def not_a_bar(self) -> re.Pattern[str]:
        return _not_a_bar(self.names)

    def scope(self) -> re.Pattern[str]:
        return _scope(self.scopes)


GENERIC_WORDS = ConditionWords()


@functools.cache
def _not_a_bar(names: frozenset[str]) -> re.Pattern[str]:
    own = [rf"(?:{'|'.join(re.escape(n) for n in sorted(names))}) {_ACTS}"] if names else []
    return re.compile(rf"\b(?:{'|'.join([*NOT_A_BAR, *own])})\b")


@functools.cache
def _scope(scopes: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{'|'.join([*SCOPES, *(re.escape(s) for s in scopes)])})\b")


# A sentence about the one before it: "It must stay at 80% or higher."
_ANAPHOR = re.compile(r"^(?:it|this|that|they|these|those)\b", re.IGNORECASE)
_AGE_OPS = re.compile(r"(?:at least|under|over|older than|younger than|be)\s*$")


@dataclasses.dataclass(frozen=True)
class Condition:
    """A comparator and a quantity of the evidence: what must hold for the customer."""

    quantity: Quantity
    op: Op
    text: str  # the comparator and the quantity, as written: "more than 20 minutes"
    sentence: str
    prohibits: bool  # met, it closes the door ("After 7 days the option closes")
    context: str = ""  # the sentence, and the one before when it refers back to it
    scopes: frozenset[str] = frozenset()  # "car", "scheduled": it applies to these only


def _comparator(clause: str, q: Quantity) -> tuple[Op, int, int] | None:
    """The comparator of ``q`` in its clause, with the span of comparator and quantity."""
    before, after = clause[: q.start], clause[q.end :]
    counted = _COUNT_BEFORE if q.kind.startswith("count:") else []
    for pattern, op in [*_BEFORE, *counted]:
        m = pattern.search(before)
        if m:
            if _DEADLINE_WORDS.search(before) and _AHEAD.match(after):
                return ">=", m.start(), q.end
            return op, m.start(), q.end
    for pattern, op in _AFTER:
        m = pattern.match(after)
        if m:
            return op, q.start, q.end + m.end()
    return None


def _bare_ages(clause: str, taken: Sequence[Quantity]) -> list[Quantity]:
    """Unit-less numbers that can only be ages: "at least 21 and", "21 or older", "21+"."""
    ages = []
    for m in _BARE.finditer(clause):
        if any(q.start <= m.start() < q.end for q in taken):
            continue
        after = clause[m.end() :]
        noun = _noun(after)
        is_age = _AGE_OPS.search(clause[: m.start()]) or re.match(
            r"\s*(?:or older|or younger|\+)", after
        )
        if is_age and not noun and 14 <= int(m.group("num")) <= 100:
            value = float(m.group("num"))
            ages.append(Quantity("age", value, value, m.group(0), m.start(), m.end()))
    return ages


def _closes(text: str) -> bool:
    return bool(_CLOSES.search(_PERMITS.sub("", text)))


def _conjunct(text: str, at: int) -> str:
    """The conjunct of ``text`` ("X and Y or Z") that holds position ``at``."""
    start, end = 0, len(text)
    for sep in _CONJUNCT.finditer(text):
        if sep.end() <= at:
            start = sep.end()
        elif sep.start() > at:
            end = sep.start()
            break
    return text[start:end]


def _condition_part(clause: str, at: int) -> tuple[str, str]:
    """The clause without its "if" parts (its consequence), and the conjunct of the "if" part
    that holds position ``at`` ("" when the condition is not in an "if" part)."""
    main: list[str] = []
    own = ""
    for part in re.finditer(r"[^,:]+", clause):
        cut = _IF.search(part.group(0))
        if cut is None:
            main.append(part.group(0))
            continue
        main.append(part.group(0)[: cut.start()])
        offset = part.start() + cut.end()
        if offset <= at < part.end():
            own = _conjunct(clause[offset : part.end()], at - offset)
    return " ".join(main), own


def _prohibits(clause: str, at: int) -> bool:
    """Whether the condition at ``at`` closes a door when met. Its clause's consequence says so
    ("..., the app won't allow the change"); a condition that is itself negated flips it ("paused
    if you don't consent within 14 days"); a negation in another "if" part or conjunct does not
    count ("if the app says delivered but you don't have it, ... within 24 hours"). A table row
    "condition: consequence" reads as "if condition, consequence"."""
    head, colon, tail = clause.partition(": ")
    if colon and at < len(head) and tail.strip():
        return _closes(tail) != _closes(_conjunct(head, at))
    main, own = _condition_part(clause, at)
    return _closes(main) != _closes(own) if own else _closes(main)


def stated(text: str) -> list[Quantity]:
    """The quantities of evidence-like ``text`` (lowercase), with the unit-less ages."""
    found = quantities(text)
    return sorted([*found, *_bare_ages(text, found)], key=lambda q: q.start)


def _scopes(text: str, words: ConditionWords) -> frozenset[str]:
    """The scope words of ``text`` ("car", "scheduled"), singular."""
    found = words.scope().finditer(text.lower())
    return frozenset(m.group(0).removesuffix("s") for m in found)


def _clause_conditions(
    clause: str, sentence: str, previous: str, words: ConditionWords
) -> list[Condition]:
    found = stated(clause)
    conditions = []
    for q in found:
        compared = _comparator(clause, q)
        if compared is None:
            continue
        op, start, end = compared
        text = clause[start:end]
        # "40 deliveries within 30 days", "12 hours online within 24 hours": a window, not a bar
        if text.startswith("within") and any(other.end <= q.start for other in found):
            continue
        prohibits = _prohibits(clause, q.start)
        context = f"{previous} {sentence}" if _ANAPHOR.match(sentence) else sentence
        scopes = _scopes(sentence, words)
        conditions.append(Condition(q, op, text, sentence, prohibits, context, scopes))
    return conditions


def _is_option(previous: str, sentence: str) -> bool:
    """Whether ``sentence`` is one of several options, failing which refuses nothing."""
    return bool(
        _OR_ITEM.search(previous) or _OR_ITEM.search(sentence) or _WHICHEVER.search(sentence)
    )


def find_conditions(
    evidence: Iterable[str], words: ConditionWords = GENERIC_WORDS
) -> list[Condition]:
    """The conditions stated in ``evidence`` (passage texts), sentence by sentence."""
    not_a_bar = words.not_a_bar()
    conditions: list[Condition] = []
    for text in evidence:
        sentences = split_sentences(text)
        for previous, sentence in zip(["", *sentences], sentences, strict=False):
            if _is_option(previous, sentence):
                continue
            for clause in _CLAUSE.split(sentence.lower()):
                if not not_a_bar.search(clause):
                    conditions += _clause_conditions(clause, sentence, previous, words)
    return conditions


# --- The customer's side -----------------------------------------------------------------------

# Words before a customer's quantity that widen it; those that make it a hypothetical.
CUSTOMER_HEDGES: list[tuple[str, float, float]] = [
    (r"about|around|roughly|approximately|like|maybe|almost|nearly|close to", 0.85, 1.15),
    (r"more than|over|longer than|at least|upwards of", 1.0, INF),
    (r"less than|under|fewer than|at most|no more than", 0.0, 1.0),
]
_HEDGES = [(re.compile(rf"\b(?:{w})\s*$"), low, high) for w, low, high in CUSTOMER_HEDGES]
# "Can I get a refund after 30 days?" asks about the policy, not the customer's case.
# "Do I get the $0 delivery fee?" names the policy's amount, not the customer's own.
_HYPOTHETICAL = re.compile(r"\b(?:after|within|up to|before|by|until|the|the full|that)\s*$")
# The customer's clause around a quantity: what the quantity is about.
_CUSTOMER_CLAUSE = re.compile(r"[^,;]+?(?=\s+(?:and|but|so)\s|[,;]|$)")
# "... can I cash out again?": the next one is one more than the customer's count.
_NEXT_ONE = re.compile(r"\b(?:another|again|one more|an extra|a second|a third|a fourth)\b")


@dataclasses.dataclass(frozen=True)
class Said:
    """A quantity of the customer's, with the clause they said it in."""

    quantity: Quantity
    clause: str  # "I've been online 6 hours" of "I've been online 6 hours and paused for 5"
    next_one: bool  # they ask for one more ("Can I cash out again?")


def _clause_at(sentence: str, at: int) -> str:
    """The clause of ``sentence`` holding position ``at``: cut at commas and "and"/"but"/"so"."""
    clauses = list(_CUSTOMER_CLAUSE.finditer(sentence))
    return next((m.group(0) for m in clauses if m.start() <= at < m.end()), sentence)


def customer_quantities(customer: Sequence[str]) -> list[Said]:
    """The quantities the customer gave about their own case, turn by turn."""
    said = []
    for turn in customer:
        next_one = bool(_NEXT_ONE.search(turn.lower()))
        for sentence in split_sentences(turn):
            lowered = sentence.lower()
            for q in quantities(sentence, said=True):
                before = lowered[: q.start]
                if _HYPOTHETICAL.search(before):
                    continue
                for pattern, low, high in _HEDGES:
                    if pattern.search(before):
                        q = dataclasses.replace(q, low=q.low * low, high=q.high * high)
                        break
                said.append(Said(q, _clause_at(sentence, q.start), next_one))
    return said


# --- Comparing ---------------------------------------------------------------------------------


def _interval(q: Quantity, stretch: bool) -> tuple[float, float]:
    if not stretch:
        return q.low, q.high
    factor, extra = BUSINESS_STRETCH
    return q.low, q.high * factor + extra


def holds(op: Op, x: tuple[float, float], t: tuple[float, float]) -> bool | None:
    """Whether ``x op t`` holds for every value of both intervals (True), for none (False),
    or depends on where in them the values are (None)."""
    (x_low, x_high), (t_low, t_high) = x, t
    if op == "<=":
        return True if x_high <= t_low else False if x_low > t_high else None
    if op == "<":
        return True if x_high < t_low else False if x_low >= t_high else None
    if op == ">=":
        return True if x_low >= t_high else False if x_high < t_low else None
    if op == ">":
        return True if x_low > t_high else False if x_high <= t_low else None
    # "after": exactly at the bar is not decided ("after 24 hours" at 24 hours)
    return True if x_low > t_high else False if x_high < t_low else None


def evaluate(condition: Condition, said: Said) -> bool | None:
    """Whether the customer's quantity meets the condition, or None when it is not decided."""
    c, q = condition.quantity, said.quantity
    mixed = c.business != q.business
    x = _interval(q, mixed and q.business)
    if said.next_one and condition.op in ("<=", "<") and c.kind.startswith("count:"):
        x = (x[0] + 1, x[1] + 1)
    return holds(condition.op, x, _interval(c, mixed and c.business))


def _applies(condition: Condition, customer_scopes: frozenset[str]) -> bool:
    """A condition "to deliver by car" applies only to a customer who mentions a car."""
    return not condition.scopes or bool(condition.scopes & customer_scopes)


def relevance(
    condition: Condition,
    context: str,
    restated: Sequence[Quantity],
    common: frozenset[str] = COMMON_WORDS,
) -> int:
    """How many content words (numbers and common words aside) the condition's sentence shares
    with ``context``, plus ``RESTATED`` when the answer restates the condition's quantity."""
    ours = {w for w in content_words(condition.context) if not w[0].isdigit()} - common
    score = len(ours & set(content_words(context)))
    q = condition.quantity
    if any((r.kind, r.low, r.high) == (q.kind, q.low, q.high) for r in restated):
        score += RESTATED
    return score


class ConditionFinding(BaseModel):
    """One condition of the evidence held against one quantity of the customer's."""

    model_config = ConfigDict(frozen=True)

    condition: str  # "more than 20 minutes"
    evidence: str  # its sentence
    customer: str  # "12 minutes"
    met: bool
    prohibits: bool = False  # met, the condition closes the door
    affirms: bool = True  # the answer says yes to the customer ("No" to "Is it too late?")
    answer: str = ""  # the answer sentence

    @property
    def allows(self) -> bool:
        """Whether the condition lets the customer through."""
        return self.met != self.prohibits

    @property
    def contradicts(self) -> bool:
        """The answer says yes where the condition says no."""
        return self.affirms and not self.allows

    def describe(self) -> str:
        holds_text = "holds" if self.met else "does not hold"
        return (
            f"{self.condition!r} {holds_text} for the customer's {self.customer!r}"
            f" (evidence: {self.evidence!r})"
        )


# --- The answer's yes or no --------------------------------------------------------------------

# As guardrails/tier1.py's _VERDICT_WORDS, split into yes and no.
YES_WORDS = r"yes|yeah|yea|yep|sure|absolutely|definitely|indeed|of course|correct|right|exactly"
NO_WORDS = r"no|nope|not quite|unfortunately not|sadly not"
_OPENER = re.compile(rf"^\s*(?:(?P<yes>{YES_WORDS})|(?P<no>{NO_WORDS}))\s*[.!,]", re.IGNORECASE)
# A question a "Yes" answers against the customer: "Is it too late to ...?"
_AGAINST = re.compile(
    r"\b(?:too (?:late|young|soon|early)|missed|expired|past the deadline|lost my chance"
    r"|(?:have|need) to wait|locked out)\b",
    re.IGNORECASE,
)
# A "Yes, unfortunately it's too late": the yes does not say the customer gets through.
_BODY_DENIES = re.compile(
    r"\b(?:unfortunately|too late|no longer|not eligible|not possible|isn't possible"
    r"|can't|cannot|won't be able)\b",
    re.IGNORECASE,
)


def affirms(sentence: str, question: str = "") -> bool | None:
    """Whether the answer sentence tells the customer yes, they get through (True), no (False),
    or neither (None: it does not open with a yes or no, or its yes goes on to deny)."""
    m = _OPENER.match(sentence)
    if m is None:
        return None
    said_yes = m.group("yes") is not None
    if said_yes and _BODY_DENIES.search(sentence[m.end() :]):
        return None
    return said_yes != bool(_AGAINST.search(question))


def _most_relevant(
    conditions: Sequence[Condition],
    said: Said,
    scopes: frozenset[str],
    context: str,
    restated: Sequence[Quantity],
    common: frozenset[str],
) -> list[Condition]:
    """The conditions of the quantity's kind that apply to the customer and share the most words
    with ``context`` (at least one, for the kinds in ``NEEDS_WORDS``)."""
    kind = said.quantity.kind
    candidates = [c for c in conditions if c.quantity.kind == kind and _applies(c, scopes)]
    scores = [relevance(c, context, restated, common) for c in candidates]
    best = max(scores, default=0)
    if best < (1 if kind in NEEDS_WORDS else 0):
        return []
    return [c for c, score in zip(candidates, scores, strict=True) if score == best]


def check_conditions(
    sentence: str,
    customer: Sequence[str],
    evidence: Iterable[str],
    words: ConditionWords = GENERIC_WORDS,
) -> list[ConditionFinding]:
    """Each decided condition of ``evidence`` relevant to a quantity of the ``customer``'s
    turns, for an answer ``sentence`` opening with a yes or no; [] when nothing compares."""
    verdict = affirms(sentence, customer[-1] if customer else "")
    if verdict is None:
        return []
    conditions = find_conditions(evidence, words)
    scopes = _scopes(" ".join([*customer, sentence]), words)
    restated = stated(sentence.lower())
    asked = " ".join(s for s in split_sentences(customer[-1]) if s.endswith("?"))
    findings: dict[tuple[str, str, str], ConditionFinding] = {}
    for said in customer_quantities(customer):
        context = f"{said.clause} {asked} {sentence}"
        relevant = _most_relevant(conditions, said, scopes, context, restated, words.common)
        for condition in relevant:
            met = evaluate(condition, said)
            if met is None:
                continue
            key = (condition.text, condition.sentence, said.quantity.text)
            findings[key] = ConditionFinding(
                condition=condition.text,
                evidence=condition.sentence,
                customer=said.quantity.text,
                met=met,
                prohibits=condition.prohibits,
                affirms=verdict,
                answer=sentence,
            )
    return list(findings.values())


def contradictions(findings: Iterable[ConditionFinding]) -> list[ConditionFinding]:
    """The findings the answer's yes or no contradicts: a yes that a condition refuses."""
    return [f for f in findings if f.contradicts]
