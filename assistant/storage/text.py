"""White space, read one way everywhere: as JSON Schema's (JavaScript's) regular expressions
read ``\\s``, so that what the OpenAPI document calls blank is what the app refuses. (Python's
``str.strip()`` also takes U+001C-U+001F and U+0085, and not U+FEFF.)"""

from __future__ import annotations

WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def strip_space(text: str) -> str:
    """``text`` without white space at either end."""
    return text.strip(WHITESPACE)
