"""A simulated day of traffic through the monitoring loop, for figures and for the dashboard's
browser test. Nothing here is real data: conversations are generated (issue-type mix, escalation
rate, retrieval scores), the judge is a scripted stand-in that scores escalated conversations
lower, and "people" agree with it most of the time. What is real is the code under test:
sampling, storage, drift tests, agreement, gap clustering, the dashboard.

    python -m evals.simulated_day
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from assistant.desk import AgentDesk
from assistant.escalations.models import Evidence, NewEscalation
from assistant.escalations.priority import load_priority_rules
from assistant.monitoring import dashboard
from assistant.monitoring.kb_gaps import suggestions
from assistant.monitoring.quality import METRICS, check_drift, sample_and_judge
from assistant.settings import Settings
from assistant.storage import Database
from assistant.wiring import build_embedder
from core.conversation import Turn
from core.embeddings import Embedder
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from core.prompts import resolve_prompt
from evals.report import table
from guardrails.verdict import ReasonCode, Verdict

ISSUES = {
    "payments_and_pay": 0.35,
    "order_problems": 0.3,
    "refunds": 0.2,
    "account_access": 0.1,
    "safety_incidents": 0.05,
}
# The planted change of the simulated day: safety incidents up, payments down.
SHIFTED = {**ISSUES, "safety_incidents": 0.30, "payments_and_pay": 0.10}
GAPS = {
    "crypto": [
        "can I pay with bitcoin",
        "do you take crypto payments",
        "pay in bitcoin?",
        "is cryptocurrency accepted as payment",
        "bitcoin payment for my order",
    ],
    "pets": [
        "can you deliver my dog",
        "pet transport to the vet",
        "courier to carry my cat",
        "do couriers deliver pets",
        "send my puppy with a courier",
    ],
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
        convo = database.conversations.create()
        question = f"question about {issue} #{i}"
        database.conversations.add_message(convo.id, role="customer", text=question, at=at)
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
                    "tier": 2 if escalated and rng.random() < 0.5 else 1,
                },
                "retrieval_best": float(rng.beta(*retrieval)),
                "passages": [{"article_id": "pay-001", "text": "Payouts arrive on Wednesday."}],
                "trace": {"core_issue": question},
            },
            at=at + timedelta(seconds=20),
        )
        ids.append(convo.id)
    return ids


def plant_gaps(database: Database, desk: AgentDesk, at: datetime) -> None:
    """Escalations about topics no article covers, answered by agents."""
    for topic, questions in GAPS.items():
        for text in questions:
            convo = database.conversations.create()
            message = database.conversations.add_message(
                convo.id, role="customer", text=text, at=at
            )
            case = desk.escalate(
                NewEscalation(
                    conversation_id=convo.id,
                    message_id=message.id,
                    reasons=[ReasonCode.NO_RELEVANT_ARTICLES],
                    tier=0,
                    issue_type="unknown",
                    core_issue=text,
                    transcript=[Turn(role="customer", text=text)],
                    verdict=Verdict.escalate(ReasonCode.NO_RELEVANT_ARTICLES),
                    evidence=Evidence(),
                )
            )
            desk.claim(case.id, "agent-sim")
            desk.resolve(case.id, "agent-sim", reply=f"(agent's answer about {topic})", kb_gap=True)


def scripted_judge(messages: Sequence[ChatMessage]) -> str:
    """Lower scores for handed-over conversations, higher for answered ones."""
    handed_over = "A person will follow up." in messages[-1].content
    base = 2 if handed_over else 4
    return json.dumps({m: {"rationale": "simulated", "score": base} for m in METRICS})


def run_day(
    database: Database,
    embedder: Embedder,
    *,
    now: datetime,
    share: float = 0.1,
    seed: int = 0,
    leave_unreviewed: int = 0,
) -> dict[str, object]:
    desk = AgentDesk(database, load_priority_rules(Settings().priority_rules_path))
    simulate(database, start=now - timedelta(days=8), hours=24 * 7, n=2800, seed=seed)
    day = simulate(
        database, start=now - timedelta(hours=24), hours=23, n=1000, seed=seed + 1, issues=SHIFTED
    )
    plant_gaps(database, desk, now - timedelta(hours=6))
    report = sample_and_judge(
        database,
        FakeChatModel(responder=scripted_judge),
        resolve_prompt("monitor@1"),
        share=share,
        finished_minutes=30,
        now=now,
    )
    rng = np.random.default_rng(seed + 2)
    reviews = database.quality.reviews()
    for review in reviews[: len(reviews) - leave_unreviewed]:
        human = {
            m: int(np.clip(s + (0 if rng.random() < 0.8 else rng.choice([-2, -1, 1, 2])), 1, 5))
            for m, s in review.judge_scores.items()
        }
        database.quality.save_human(review.conversation_id, "reviewer-sim", human)
    drift = check_drift(database, now=now)
    # Only escalations as gap evidence: the simulated questions mean nothing by themselves.
    clusters = suggestions(database, embedder, since=now - timedelta(days=2), retrieval_below=0.0)
    sampled_ids = {r.conversation_id for r in database.quality.reviews()}
    day_sampled = [c for c in day if c in sampled_ids]
    escalated = {c for c in day if not database.conversations.get(c).messages[-1].meta["answered"]}
    data = dashboard.build(
        database.quality.replies(since=now - timedelta(days=9)), database.quality.reviews(), []
    )
    return {
        "conversations": 3800,
        "day_conversations": len(day),
        "considered": report.considered,
        "judged": report.judged,
        "day_sampled_share": round(len(day_sampled) / len(day), 4),
        "sampled_share_escalated": round(len(set(day_sampled) & escalated) / len(escalated), 4),
        "sampled_share_answered": round(
            len(set(day_sampled) - escalated) / (len(day) - len(escalated)), 4
        ),
        "drift": {
            r.feature: {
                "drifted": r.drifted,
                "p_value": r.p_value,
                "jsd": round(r.jsd, 4),
                "top": r.top_changes[:2],
            }
            for r in drift
        },
        "kappa": {a.metric: a.kappa for a in data.agreement},
        "disagreement": {a.metric: a.disagreement_rate for a in data.agreement},
        "gap_clusters": [(c.label, c.size, dict(c.sources)) for c in clusters],
        "escalation_rate": round(data.escalation_rate, 4),
        "tier2_share": round(data.tier2_share, 4),
    }


def main() -> None:
    database = Database.connect("sqlite://")
    figures = run_day(database, build_embedder(), now=datetime.now(UTC))
    rows = [(k, json.dumps(v)) for k, v in figures.items()]
    print(table("A simulated day through the monitoring loop", rows, ("figure", "value")))
    print()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
