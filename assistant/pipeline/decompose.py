"""The questions of a message that asks two things at once.

Customers often ask two things together ("How do I stop recording and where do I find
information about my program?"). Asked to pick the sentences that answer such a message, a
small model picks those for one of them: on the first 40 e-manual dev questions all 4 two-part
questions got an extractive answer that missed one part. The extractive answer
(pipeline/answer.py) asks for each question here on its own, over the same evidence, and shows
the sentences of all of them.

A message is cut only where a second question starts (", and how ...", "? Also, can ...") and
each part reads as a question of its own (enough words); the statements before the first
question ("A customer threatened me at the door.") lead every part.
"""

from __future__ import annotations

import re

# Where a second question starts: "and" or "also" (after an optional comma or question mark)
# followed by a word that opens a question or a request, or a question mark followed by one.
_OPENERS = (
    r"how|what|where|when|why|which|who|is|are|can|could|do|does|did|should|will|would|"
    r"please|explain|tell"
)
_CUT = re.compile(
    rf"(?:\s*[,;?]\s*|\s+)(?:and(?:\s+also)?|also)\s*,?\s+(?=(?:{_OPENERS})\s)"
    rf"|\?\s+(?=(?:{_OPENERS})\s)",
    re.IGNORECASE,
)
_STATEMENT_END = re.compile(r"(?<=[.!])\s+")
# A part shorter than this (in words) is not a question of its own ("and how?"): no cut.
MIN_WORDS = 3
MOST_PARTS = 3


def questions(text: str) -> list[str]:
    """The questions ``text`` asks, in order: itself when it asks one (or when a cut would leave
    a part too short to stand on its own); each part led by the statements before the first
    question."""
    lead, asked = _lead(text.strip())
    parts = [p.strip(" ,;") for p in _CUT.split(asked)]
    if len(parts) < 2 or len(parts) > MOST_PARTS or any(len(p.split()) < MIN_WORDS for p in parts):
        return [text.strip()]
    return [" ".join(filter(None, (lead, _asked(part)))) for part in parts]


def _lead(text: str) -> tuple[str, str]:
    """The statements before the first question, and the rest."""
    sentences = _STATEMENT_END.split(text)
    for i, sentence in enumerate(sentences):
        if "?" in sentence or re.match(rf"(?:{_OPENERS})\s", sentence, re.IGNORECASE):
            return " ".join(sentences[:i]), " ".join(sentences[i:])
    return "", text


def _asked(part: str) -> str:
    """A part as a question: capitalised, ending with its question mark."""
    part = part[0].upper() + part[1:]
    return part if part.endswith(("?", ".", "!")) else part + "?"
