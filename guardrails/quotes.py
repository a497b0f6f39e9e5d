"""The verbatim check of quoted evidence: a quote an answer relies on is a passage's own words.

A quote-then-answer prompt (answer@3, answer@7) has the model copy the passage sentences it
relies on before it answers. Copying is what a small model does well, and checking a copy is
exact and cheap: a quote that is no substring of any passage (after folding case, spacing,
quotation marks and dashes) was made up, reworded or half-remembered, so the answer built on it
fails at tier 1 (``MISQUOTED``) without a judge. A quote that is a passage's words but names
another retrieved article is not a misquote: the article it came from is recorded instead. A
quote of a passage's heading (its title or section, which the prompt shows above the passage)
claims nothing and is not checked, like a quote too short to say anything.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from pydantic import BaseModel

from knowledge_base.articles import Passage

# Quotes shorter than this (in characters, once folded) say too little to be checked.
MIN_QUOTE_CHARS = 12

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
    }
)
_MARKDOWN = re.compile(r"[*`#]+|(?<!\w)_+|_+(?!\w)")
_EDGE = re.compile(r"""^[\s"'`.,;:!?*\-…]+|[\s"'`.,;:!?*\-…]+$""")


class Quote(BaseModel):
    """A passage sentence the model says its answer relies on, under the article it names."""

    article_id: str
    text: str


class QuoteFinding(BaseModel):
    """Whether one quote is a passage's own words, and whose (``found_in``: None when none)."""

    quote: Quote
    verbatim: bool
    found_in: str | None = None


def fold(text: str) -> str:
    """``text`` as the comparison sees it: NFKC, one kind of quotation mark and dash, no case,
    no markdown emphasis or heading marks, single spaces, no quotation marks or punctuation at
    its ends."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD).casefold()
    text = _MARKDOWN.sub("", text)
    return _EDGE.sub("", " ".join(text.split()))


def check_quotes(quotes: Sequence[Quote], passages: Sequence[Passage]) -> list[QuoteFinding]:
    """Each quote long enough to check and not a heading, held against the passages of its
    article first, then against every passage."""
    folded = [(p.article_id, fold(p.text)) for p in passages]
    headings = [fold(f"{p.chunk.title} > {p.chunk.section}") for p in passages]
    findings = []
    for quote in quotes:
        text = fold(quote.text)
        if len(text) < MIN_QUOTE_CHARS or any(text in heading for heading in headings):
            continue
        holders = [a for a, body in folded if text in body]
        found = quote.article_id if quote.article_id in holders else next(iter(holders), None)
        findings.append(QuoteFinding(quote=quote, verbatim=found is not None, found_in=found))
    return findings


def misquotes(findings: Sequence[QuoteFinding]) -> list[str]:
    """The quotes no passage holds, as written."""
    return [f.quote.text for f in findings if not f.verbatim]
