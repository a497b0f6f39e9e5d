"""Unbiased, deterministic sampling of finished conversations for quality review.

Whether a conversation is sampled depends only on a hash of its id (and a salt), never on what
happened in it: escalated and resolved conversations are sampled at the same rate, so reviewing
the sample gives an unbiased picture. Every replica computes the same answer without sharing any
state, and changing the salt draws a fresh sample that is independent of the previous one.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

_SCALE = float(2**64)


def _check_share(share: float) -> None:
    if isinstance(share, bool) or not isinstance(share, int | float):
        raise ValueError(f"share must be a number in [0, 1], got {share!r}")
    if not math.isfinite(share) or not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share!r}")


def _check_id(conversation_id: str) -> None:
    if not isinstance(conversation_id, str) or not conversation_id:
        raise ValueError(f"conversation_id must be a non-empty string, got {conversation_id!r}")


def hash_unit(conversation_id: str, *, salt: str = "quality") -> float:
    """Map ``salt`` and ``conversation_id`` to a uniform number in [0, 1).

    The first 8 bytes of ``sha256(salt + "\\x00" + conversation_id)``, read as an unsigned integer
    and divided by 2**64. The NUL separator keeps ``("ab", "c")`` and ``("a", "bc")`` apart.
    """
    _check_id(conversation_id)
    digest = hashlib.sha256(f"{salt}\x00{conversation_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def sampled(conversation_id: str, share: float, *, salt: str = "quality") -> bool:
    """True when the conversation falls in the review sample of size ``share`` (0 to 1)."""
    _check_share(share)
    return hash_unit(conversation_id, salt=salt) < share


def draw(conversation_ids: Sequence[str], share: float, *, salt: str = "quality") -> list[str]:
    """The ids (in input order) that are in the sample; same rule as :func:`sampled`."""
    _check_share(share)
    if isinstance(conversation_ids, str):
        raise ValueError("conversation_ids must be a sequence of ids, not a single string")
    return [cid for cid in conversation_ids if hash_unit(cid, salt=salt) < share]
