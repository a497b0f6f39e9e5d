"""Split answers and passages into sentences, and passages into sliding windows of sentences.

Answers are plain text with citation markers (``[pay-001]``); passages are markdown chunks
(lists, tables, bold). Both become plain sentences: markers, list bullets and emphasis are
removed, each line is a unit of its own, and a line is cut after ``.``, ``!`` or ``?`` followed
by a space, except after abbreviations ("e.g.", "approx.") and initials.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_MARKER = r"[A-Za-z][\w.-]*-\d+(?:#\d+)?"
_CITATION = re.compile(rf"\s*\[{_MARKER}(?:\s*[,;]\s*{_MARKER})*\]")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)]|#{1,6})\s+")
_EMPHASIS = re.compile(r"\*\*|__|`")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_BOUNDARY = re.compile(r"([.!?]+)[\"'\u201d\u2019)\]]*\s+")
_LAST_WORD = re.compile(r"(\S+)$")

# Words that end with a period but never end a sentence.
_ABBREVIATIONS = frozenset({"e.g", "i.e", "approx", "vs", "mr", "mrs", "ms", "dr", "incl", "cf"})
# Abbreviations that may also end a sentence: cut there only when a capital letter follows.
_MAY_END = frozenset(
    {"etc", "a.m", "p.m", "u.s", "no", "st", "min", "max", "hr", "hrs", "mins"}
    | {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
    | {"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}
)


def _clean_line(line: str) -> str:
    if _TABLE_RULE.match(line):
        return ""
    if line.strip().startswith("|"):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        line = ": ".join(cell for cell in cells if cell)
    line = _BULLET.sub("", line)
    line = _EMPHASIS.sub("", line)
    return " ".join(line.split())


def _is_boundary(before: str, punct: str, after: str) -> bool:
    """Whether the punctuation ``punct`` between ``before`` and ``after`` ends a sentence."""
    if punct != ".":
        return True
    match = _LAST_WORD.search(before)
    raw = match.group(1).lstrip("([\"'") if match else ""
    if len(raw) == 1 and raw.isupper():
        return False  # an initial: "J. Smith"
    word = raw.lower()
    if word in _MAY_END:
        return after[:1].isupper()
    return word not in _ABBREVIATIONS


def _split_line(line: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(line):
        before, after = line[start : match.start()], line[match.end() :]
        if _is_boundary(before, match.group(1), after):
            sentences.append(line[start : match.end()].strip())
            start = match.end()
    sentences.append(line[start:].strip())
    return [s for s in sentences if any(ch.isalnum() for ch in s)]


def strip_citations(text: str) -> str:
    """Remove citation markers such as ``[pay-001]`` or ``[pay-001, ref-002]``."""
    return _CITATION.sub("", text)


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, without citation markers, list bullets or markdown emphasis."""
    sentences: list[str] = []
    for line in strip_citations(text).splitlines():
        cleaned = _clean_line(line)
        if cleaned:
            sentences.extend(_split_line(cleaned))
    return sentences


def spans(count: int, size: int) -> list[tuple[int, int]]:
    """(start, end) of every run of 1 to ``size`` consecutive items of ``count``, shortest first."""
    return [
        (start, start + length)
        for length in range(1, max(size, 1) + 1)
        for start in range(count - length + 1)
    ]


def runs(sentences: Sequence[str], size: int) -> list[str]:
    """Every run of 1 to ``size`` consecutive ``sentences``, joined, shortest runs first."""
    return [" ".join(sentences[start:end]) for start, end in spans(len(sentences), size)]
