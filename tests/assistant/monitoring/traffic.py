"""Simulated traffic for the monitoring tests (the generator lives in evals.simulated_day)."""

from __future__ import annotations

import json

from core.llm.base import ChatMessage
from evals.simulated_day import ISSUES, simulate

__all__ = ["ISSUES", "kind_judge", "monitor_json", "simulate"]


def monitor_json(score: int = 4) -> str:
    return json.dumps(
        {
            m: {"rationale": "fine", "score": score}
            for m in ("retrieval", "accuracy", "language", "coherence", "relevance")
        }
    )


def kind_judge(_: list[ChatMessage]) -> str:
    return monitor_json(4)
