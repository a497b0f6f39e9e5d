"""What an answer may carry to a customer beyond words: no markup, and no link, e-mail address or
phone number that the passages do not give.

A model that echoes the customer (or a planted article) can write ``<script>``, an image with an
``onerror`` handler, or a link to a phishing page; the similarity check reads words and passes
them. So markup is removed from every answer before it is checked, stored or shown
(:func:`strip_markup`: tags go, their text stays, and a markdown link becomes its text and its
address), and every link, e-mail address and phone number left must be found in the passages
(:func:`unsourced_contacts`); one that is not fails the answer with its own reason code.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from guardrails.pii import find_pii

_SCRIPT = re.compile(r"<\s*(script|style)\b[^>]*>.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?\s*[a-zA-Z][^<>]*>|<!--.*?-->", re.DOTALL)
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*([^)\s]+)[^)]*\)")
_URL = re.compile(
    r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'()]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|"
    r"io|co|info|biz|app|example|xyz|ru|cn|tk|top|ly|me)(?:/[^\s<>\"'()]*)?",
    re.IGNORECASE,
)


def strip_markup(text: str) -> str:
    """``text`` without HTML (script and style blocks with their content, other tags without)
    and with markdown links written out as ``text (address)``; entities are decoded so that
    escaped markup cannot come back."""
    text = _SCRIPT.sub("", text)
    text = _MARKDOWN_LINK.sub(lambda m: f"{m[1]} ({m[2]})".strip(), text)
    text = html.unescape(_TAG.sub("", text))
    text = _TAG.sub("", _SCRIPT.sub("", text))  # what the entities spelled out
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _canonical(contact: str) -> str:
    """A phone number as its digits, an address or link without case, scheme or ``www.``."""
    contact = contact.lower().rstrip(".,;:!?")
    if not any(ch.isalpha() for ch in contact):
        return re.sub(r"\D", "", contact)
    return re.sub(r"^(?:https?://|ftp://)?(?:www\.)?", "", contact).rstrip("/")


def contacts(text: str) -> list[str]:
    """The links, e-mail addresses and phone numbers in ``text``, in order."""
    emails_and_phones = [m.text for m in find_pii(text) if m.kind in ("email", "phone")]
    without_emails = re.sub(r"\S+@\S+", " ", text)
    return list(dict.fromkeys([*emails_and_phones, *_URL.findall(without_emails)]))


def unsourced_contacts(answer: str, passages: Iterable[str]) -> list[str]:
    """The contacts of ``answer`` that no passage gives (compared without case, scheme, ``www.``
    or punctuation; phone numbers by their digits)."""
    known = {_canonical(c) for passage in passages for c in contacts(passage)}
    return [c for c in contacts(answer) if _canonical(c) not in known]
