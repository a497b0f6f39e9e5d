"""Word coverage: the share of a sentence's content words that its evidence also uses.

Cosine similarity says two sentences are about the same thing; it does not say one states what
the other does ("Elvis was born in 1935 and died in Tupelo" is close to a passage that says he
was born in Tupelo). A grounded answer sentence mostly reuses the evidence's words, so the
share of its content words found in the evidence is a second, independent signal for tier 1.
On BEGIN dev wow it separates grounded from ungrounded responses better than the cosine does
(see evals/GROUNDEDNESS_NOTES.md).

Content words are lowercased, stemmed (Snowball, as the keyword search uses), with number words
as digits ("two" is "2"), without English stop words and without the interjections a reply
opens with ("yes", "sure", "absolutely"), which claim nothing of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import Stemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from guardrails.facts import number_word_value

_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_STEMMER = Stemmer.Stemmer("english")
INTERJECTIONS = frozenset(
    {"yes", "yeah", "yea", "yep", "sure", "absolutely", "definitely", "indeed", "ok", "okay"}
    | {"oh", "wow", "well", "haha", "lol", "hi", "hello", "hey", "thanks", "thank", "please"}
)
_IGNORED = frozenset(ENGLISH_STOP_WORDS) | INTERJECTIONS


@lru_cache(maxsize=65536)
def _normal(word: str) -> str | None:
    """The word as compared, or None for a word that carries no content."""
    number = number_word_value(word)
    if number is not None:
        return number  # before the stop words, which list "two" and "five"
    return None if word in _IGNORED else str(_STEMMER.stemWord(word))


def content_words(text: str) -> list[str]:
    """The content words of ``text``, normalised, in order (repeats kept)."""
    return [w for w in map(_normal, _WORD.findall(text.lower())) if w is not None]


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """Every content word of ``texts``: the evidence a sentence's words are looked up in."""
    return frozenset(word for text in texts for word in content_words(text))


def coverage(sentence: str, evidence: frozenset[str]) -> float:
    """The share of the sentence's content words found in ``evidence``; 1.0 when it has none."""
    words = content_words(sentence)
    if not words:
        return 1.0
    return sum(word in evidence for word in words) / len(words)
