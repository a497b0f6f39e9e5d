"""The one check of a text a person sends (a message, a reply, a note): not empty, not too long.

The API turns a problem into its HTTP status; the console shows it on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, status

from assistant.storage.text import strip_space


@dataclass(frozen=True)
class TextProblem:
    status_code: int
    message: str


def check_text(value: str, limit: int, what: str) -> str | TextProblem:
    """``value`` stripped of white space (as the OpenAPI document's ``\\S`` pattern reads it),
    or what is wrong with it. The limit counts the text as sent (the document's
    ``maxLength``)."""
    if len(value) > limit:
        return TextProblem(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{what} is {len(value)} characters; the limit is {limit}",
        )
    text = strip_space(value)
    if not text:
        return TextProblem(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{what} is empty")
    return text


def require_text(value: str, limit: int, what: str) -> str:
    """``value`` stripped; an HTTP error when it is empty or too long."""
    checked = check_text(value, limit, what)
    if isinstance(checked, TextProblem):
        raise HTTPException(checked.status_code, checked.message)
    return checked
