"""The views of a message that the rules are matched against.

``normalise``: NFKC, zero-width and bidi characters removed, Cyrillic and Greek look-alike letters
mapped to Latin inside Latin words, lowercase, whitespace collapsed. Long runs of a repeated unit
("ö ö ö ...", ") ] } ) ] } ...") are cut down to one unit. ``deobfuscate`` also collapses
letter-spaced words ("i g n o r e"), words split by a space ("ig nore"), letters joined by
``_ - . *`` ("i_g_n_o_r_e") and leetspeak ("1gn0r3"). ``letters_only`` keeps only the letters, for
a few long key phrases ("ignoreallpreviousinstructions"). ``read`` makes all three at once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from guardrails.injection.families import REPEAT_SHORT

# Repetition: a unit of 1 to 20 characters repeated at least ten times in a row.
_REPEAT = re.compile(r"(.{1,20}?)\1{9,}", re.DOTALL)
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
# Cyrillic and Greek letters that look like Latin ones (and the Polish l with stroke).
_CONFUSABLES = str.maketrans(
    "\u0430\u0432\u0435\u0451\u043a\u043c\u043d\u043e"
    "\u0440\u0441\u0442\u0443\u0445\u0456\u0458\u0455"
    "\u0501\u0261\u03b1\u03b5\u03b9\u03ba\u03bd\u03bf"
    "\u03c1\u03c4\u03c5\u03c7\u0142",
    "abeekmhopctyxijsdgaeikvoptuxl",
)
_WORD = re.compile(r"\w+")
_LATIN_LETTER = re.compile(r"[a-zA-Z]")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
_LEET_WORD = re.compile(r"(?<!\S)(?=\S*[a-z])(?=\S*[01345@$7])[a-z01345@$7!]{3,}(?!\S)")
_LETTER_SPACED = re.compile(r"(?<![a-z])(?:[a-z][ .\-_*|,]){2,}[a-z](?![a-z])")
_JOINED_LETTERS = re.compile(r"(?<=[a-z])[_*~^|](?=[a-z])|(?<=[a-z])-(?=[a-z]-)")
_JOINED_WORDS = re.compile(r"\b[\w'\"]+(?:[_-][\w'\".,]+){3,}")
_SPLIT_KEYWORDS = (
    "ignore",
    "disregard",
    "forget",
    "previous",
    "instructions",
    "instruction",
    "prompt",
    "system",
    "reveal",
    "override",
    "jailbreak",
    "developer",
    "granted",
    "access",
    "password",
    "admin",
    "administrator",
    "rules",
)
_SPLIT_WORD = re.compile(
    r"\b(?:"
    + "|".join(
        rf"{re.escape(word[:i])}\s+{re.escape(word[i:])}"
        for word in _SPLIT_KEYWORDS
        for i in range(2, len(word) - 1)
    )
    + r")\b"
)
_SPACES = re.compile(r"[^\S\n]+")
_LINE_BREAKS = re.compile(r" ?\n[\s]*")
_NON_LETTERS = re.compile(r"[^a-z]+")


def _fold_confusables(text: str) -> str:
    """Cyrillic and Greek look-alikes to Latin, inside words that also have Latin letters."""

    def fold(match: re.Match[str]) -> str:
        word = match.group(0)
        if word.isascii() or not _LATIN_LETTER.search(word):
            return word
        return word.translate(_CONFUSABLES)

    return _WORD.sub(fold, text)


def _collapse_repeats(text: str) -> tuple[str, int]:
    """``text`` with long runs of a repeated unit cut to one unit; the longest run's length."""
    longest = 0
    parts: list[str] = []
    last = 0
    for match in _REPEAT.finditer(text):
        unit = match.group(1)
        span = match.end() - match.start()
        if not unit.strip():
            continue
        longest = max(longest, span)
        if span >= REPEAT_SHORT:
            parts.append(text[last : match.start()])
            parts.append(f" {unit.strip()} ")
            last = match.end()
    parts.append(text[last:])
    return "".join(parts), longest


def _prepare(text: str) -> str:
    """NFKC, invisible characters removed, look-alike letters folded, lowercase."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return _fold_confusables(text).lower()


def _squeeze(text: str) -> str:
    """Runs of spaces to one space, runs of line breaks to one line break."""
    return _LINE_BREAKS.sub("\n", _SPACES.sub(" ", text)).strip()


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, look-alike letters folded, lowercase, one space."""
    return _squeeze(_prepare(text))


def _deobfuscate_prepared(prepared: str) -> str:
    text, _ = _collapse_repeats(prepared)
    text = _JOINED_WORDS.sub(lambda m: re.sub(r"[_-]", " ", m.group(0)), text)
    text = _JOINED_LETTERS.sub("", text)
    # Before spaces are squeezed: in "i g n o r e  a l l" the double space separates words.
    text = _LETTER_SPACED.sub(lambda m: re.sub(r"[ .\-_*|,]", "", m.group(0)), text)
    text = _SPLIT_WORD.sub(lambda m: re.sub(r"\s+", "", m.group(0)), _squeeze(text))
    return _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), text)


def deobfuscate(text: str) -> str:
    """Letter-spaced, split, joined-by-symbol and leetspeak words put back together."""
    return _deobfuscate_prepared(_prepare(text))


def letters_only(text: str) -> str:
    """Everything but the lowercase Latin letters removed."""
    return _NON_LETTERS.sub("", text)


@dataclass(frozen=True)
class Views:
    """One message, read three ways, and the length of its longest run of a repeated unit."""

    normalised: str  # ``normalise``, long repeats cut
    deobfuscated: str
    letters: str  # the de-obfuscated view's letters only
    longest_repeat: int


def read(text: str) -> Views:
    prepared = _prepare(text)
    normalised, longest_repeat = _collapse_repeats(_squeeze(prepared))
    deobfuscated = _deobfuscate_prepared(prepared)
    return Views(normalised, deobfuscated, letters_only(deobfuscated), longest_repeat)
