"""Which variant a unit (a conversation or a customer) sees: a hash of the experiment id and the
unit id, so the answer is the same on every machine and after every restart, and two experiments
split the same units independently of each other."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

BUCKETS = 10_000


def bucket(experiment_id: str, unit_id: str) -> int:
    digest = hashlib.sha256(f"{experiment_id}\x1f{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign(experiment_id: str, unit_id: str, weights: Mapping[str, float]) -> str:
    """The variant for ``unit_id``; ``weights`` are traffic shares in any unit (50/50, 0.9/0.1)."""
    if not weights:
        raise ValueError("an experiment needs at least one variant")
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError("variant weights must be non-negative and not all zero")
    total = sum(weights.values())
    point = bucket(experiment_id, unit_id) / BUCKETS * total
    cumulative = 0.0
    names = sorted(weights)  # the order of the config file does not matter
    for name in names:
        cumulative += weights[name]
        if point < cumulative:
            return name
    return names[-1]
