"""A conversation's turns, and the one formatter that writes them out as a transcript."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel

Role = Literal["customer", "assistant", "agent"]

# How each role is named in a transcript: as stored (the answer and condense prompts), or as a
# reader addresses them (the judges and the quality monitor).
ROLE_NAMES: Mapping[str, str] = {"customer": "customer", "assistant": "assistant", "agent": "agent"}
SPEAKERS: Mapping[str, str] = {"customer": "Customer", "assistant": "Assistant", "agent": "Agent"}


class Turn(BaseModel):
    role: Role
    text: str


def transcript(turns: Sequence[Turn], speakers: Mapping[str, str] = ROLE_NAMES) -> str:
    """One line per turn, ``<speaker>: <text>``."""
    return "\n".join(f"{speakers[turn.role]}: {turn.text}" for turn in turns)


def before_latest(turns: Sequence[Turn]) -> tuple[list[Turn], str]:
    """The turns before the customer's latest message, and that message ("" when the customer
    has said nothing)."""
    last = max((i for i, t in enumerate(turns) if t.role == "customer"), default=None)
    if last is None:
        return list(turns), ""
    return list(turns[:last]), turns[last].text
