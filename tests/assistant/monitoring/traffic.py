"""Simulated traffic for the monitoring tests: conversations with an assistant reply whose
record carries what the message path stores (issue type, verdict, best retrieval score)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np

from assistant.llm.base import ChatMessage
from assistant.storage import Database

ISSUES = {
    "payments_and_pay": 0.35,
    "order_problems": 0.3,
    "refunds": 0.2,
    "account_access": 0.1,
    "safety_incidents": 0.05,
}


def simulate(
    database: Database,
    *,
    start: datetime,
    hours: float,
    n: int,
    seed: int,
    issues: Mapping[str, float] = ISSUES,
    escalation_rate: float = 0.2,
    retrieval: tuple[float, float] = (5.0, 3.0),
) -> list[str]:
    """``n`` conversations spread over ``hours`` from ``start``; returns their ids."""
    rng = np.random.default_rng(seed)
    names = list(issues)
    shares = np.array([issues[k] for k in names], dtype=float)
    ids = []
    for i in range(n):
        at = start + timedelta(hours=hours * i / n)
        issue = names[int(rng.choice(len(names), p=shares / shares.sum()))]
        escalated = bool(rng.random() < escalation_rate)
        tier = 2 if escalated and rng.random() < 0.5 else 1
        convo = database.conversations.create()
        database.conversations.add_message(
            convo.id, role="customer", text=f"question about {issue} #{i}", at=at
        )
        database.conversations.add_message(
            convo.id,
            role="assistant",
            text="A person will follow up." if escalated else f"Here is the answer about {issue}.",
            meta={
                "answered": not escalated,
                "issue_type": issue,
                "verdict": {
                    "outcome": "escalate" if escalated else "pass",
                    "reasons": ["ungrounded"] if escalated else [],
                    "tier": tier,
                },
                "retrieval_best": float(rng.beta(*retrieval)),
                "passages": [{"article_id": "pay-001", "text": "Payouts arrive on Wednesday."}],
            },
            at=at + timedelta(seconds=20),
        )
        ids.append(convo.id)
    return ids


def monitor_json(score: int = 4) -> str:
    return json.dumps(
        {
            m: {"rationale": "fine", "score": score}
            for m in ("retrieval", "accuracy", "language", "coherence", "relevance")
        }
    )


def kind_judge(_: list[ChatMessage]) -> str:
    return monitor_json(4)
