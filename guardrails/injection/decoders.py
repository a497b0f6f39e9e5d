"""Payloads hidden in a message: base64, hex, binary, percent-encoded and ROT13 text.

``decode_payloads`` finds the segments of a message that decode to readable text;
``payload_views`` turns them, and the ROT13 reading of the whole message when it looks like an
instruction, into normalised text for the rules.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable

from guardrails.injection.views import normalise

_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{12,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX_BYTES = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}[\s,:]?){6,}(?![0-9a-fA-F])")
_ESCAPED_HEX = re.compile(r"(?:\\x[0-9a-fA-F]{2}){4,}")
_BINARY = re.compile(r"(?<![01])(?:[01]{8}[\s,]?){3,}(?![01])")
_PERCENT = re.compile(r"(?:%[0-9a-fA-F]{2}[^%\s]{0,3}){4,}")
_MIN_DECODED_LETTERS = 4
_MIN_PRINTABLE_SHARE = 0.9


def _readable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    printable = sum(ch.isprintable() or ch in "\n\t" for ch in text)
    letters = sum(ch.isalpha() for ch in text)
    if printable / len(text) < _MIN_PRINTABLE_SHARE or letters < _MIN_DECODED_LETTERS:
        return None
    return text


def _base64_payloads(text: str) -> Iterable[str]:
    for match in _BASE64.finditer(text):
        token = match.group(0)
        if token.isalpha() and (token.islower() or token.isupper()):
            continue  # a long word, not base64
        padded = token.rstrip("=")
        padded += "=" * (-len(padded) % 4)
        try:
            data = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            continue
        decoded = _readable(data)
        if decoded is not None:
            yield decoded


def _hex_payloads(text: str) -> Iterable[str]:
    for match in _HEX_BYTES.finditer(text):
        digits = re.sub(r"[\s,:]", "", match.group(0))
        if len(digits) % 2:
            continue
        decoded = _readable(bytes.fromhex(digits))
        if decoded is not None:
            yield decoded
    for match in _ESCAPED_HEX.finditer(text):
        decoded = _readable(bytes.fromhex(match.group(0).replace("\\x", "")))
        if decoded is not None:
            yield decoded


def _binary_payloads(text: str) -> Iterable[str]:
    for match in _BINARY.finditer(text):
        bits = re.sub(r"[\s,]", "", match.group(0))
        data = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits) - 7, 8))
        decoded = _readable(data)
        if decoded is not None:
            yield decoded


def _percent_payloads(text: str) -> Iterable[str]:
    for match in _PERCENT.finditer(text):
        decoded = urllib.parse.unquote(match.group(0))
        if decoded != match.group(0) and sum(ch.isalpha() for ch in decoded) >= 4:
            yield decoded


def decode_payloads(text: str) -> list[str]:
    """Base64, hex, binary and percent-encoded segments of ``text`` that decode to text."""
    found: list[str] = []
    for decoder in (_base64_payloads, _hex_payloads, _binary_payloads, _percent_payloads):
        found.extend(decoder(text))
    return found


# ROT13 text is scanned only if, decoded, it has one of these words.
_ROT13_ANCHOR = re.compile(
    r"\b(?:ignore|disregard|forget|instructions?|prompt|system|reveal|password|granted|pretend|"
    r"developer|admin|rules)\b"
)


def rot13_view(normalised: str) -> str | None:
    """The ROT13 reading of a normalised message, if it has one of the anchor words."""
    rot13 = codecs.encode(normalised, "rot13")
    return rot13 if _ROT13_ANCHOR.search(rot13) else None


def payload_views(text: str, normalised: str) -> list[str]:
    """The decoded payloads of ``text``, normalised, then its ROT13 reading if it has one.

    ``normalised``: the normalised view of ``text``, repeats cut (``views.read``).
    """
    views = [normalise(p) for p in decode_payloads(unicodedata.normalize("NFKC", text))]
    rot13 = rot13_view(normalised)
    if rot13 is not None:
        views.append(rot13)
    return views
