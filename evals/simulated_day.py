"""A simulated day of traffic through the monitoring loop, for figures and for the dashboard's
browser test. Nothing here is real data: conversations are generated (issue-type mix, escalation
rate, retrieval scores, a share of weak answers), the judge is a scripted stand-in that scores
escalated conversations and weak answers lower, "people" agree with it most of the time, and
customers rate a share of the replies, thumbs-down more often on a reply the judge would score
low. What is real is the code under test: sampling, storage, drift tests, agreement, gap
clustering, customer feedback (and the cases a thumbs-down opens), the dashboard.

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
from assistant.feedback import FeedbackService
from assistant.monitoring import dashboard
from assistant.monitoring.feedback import FeedbackFigures
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


HANDOFF_TEXT = "A person will follow up."
WEAK_TEXT = "Here is a partial answer about"
# Simulated customers: the share who rate the reply, and how likely they rate it down, by kind
# of reply; a thumbs-down comes with a comment this often.
FEEDBACK_SHARE = 0.3
DOWN_RATE = {"answer": 0.1, "weak": 0.6, "handoff": 0.5}
COMMENT_RATE = 0.4


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
    weak_rate: float = 0.15,
) -> list[str]:
    """``n`` conversations spread over ``hours`` from ``start``, ``weak_rate`` of the answered
    ones weak; returns their ids."""
    rng = np.random.default_rng(seed)
    # Weak answers are drawn apart, so the traffic itself is what it was before they existed.
    weak_rng = np.random.default_rng(seed + 1000)
    names = list(issues)
    shares = np.array([issues[k] for k in names], dtype=float)
    ids = []
    for i in range(n):
        at = start + timedelta(hours=hours * i / n)
        issue = names[int(rng.choice(len(names), p=shares / shares.sum()))]
        escalated = bool(rng.random() < escalation_rate)
        weak = bool(weak_rng.random() < weak_rate)
        convo = database.conversations.create()
        question = f"question about {issue} #{i}"
        database.conversations.add_message(convo.id, role="customer", text=question, at=at)
        answer = f"{WEAK_TEXT} {issue}." if weak else f"Here is the answer about {issue}."
        database.conversations.add_message(
            convo.id,
            role="assistant",
            text=HANDOFF_TEXT if escalated else answer,
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


# A weak answer's scores: relevant articles, right as far as it goes, but not the answer asked
# for (no score of accuracy or retrieval low enough to count as a knowledge-base gap).
WEAK_SCORES = {"retrieval": 4, "accuracy": 3, "language": 4, "coherence": 3, "relevance": 2}


def scripted_judge(messages: Sequence[ChatMessage]) -> str:
    """Lower scores for handed-over conversations and weak answers, higher for the others."""
    said = messages[-1].content
    if WEAK_TEXT in said:
        scores = WEAK_SCORES
    else:
        scores = {m: 2 if HANDOFF_TEXT in said else 4 for m in METRICS}
    return json.dumps({m: {"rationale": "simulated", "score": scores[m]} for m in METRICS})


def _kind(reply: str) -> str:
    if HANDOFF_TEXT in reply:
        return "handoff"
    return "weak" if WEAK_TEXT in reply else "answer"


def leave_feedback(
    database: Database,
    service: FeedbackService,
    conversation_ids: Sequence[str],
    *,
    seed: int,
    share: float = FEEDBACK_SHARE,
) -> int:
    """Customers rate ``share`` of the replies a few minutes after them, through the feedback
    use case (a thumbs-down on an answer opens a case); returns the cases opened."""
    rng = np.random.default_rng(seed)
    opened = 0
    for conversation_id in conversation_ids:
        if rng.random() >= share:
            continue
        conversation = database.conversations.get(conversation_id)
        reply = conversation.messages[-1]
        down = bool(rng.random() < DOWN_RATE[_kind(reply.text)])
        comment = (
            "That did not answer my question." if down and rng.random() < COMMENT_RATE else None
        )
        given = service.give(
            conversation,
            reply.id,
            rating="down" if down else "up",
            comment=comment,
            now=reply.created_at + timedelta(minutes=5),
        )
        opened += given.opened_case
    return opened


def feedback_figures(figures: FeedbackFigures, cases_opened: int) -> dict[str, object]:
    """The dashboard's feedback figures, for the printout."""
    return {
        "rated": figures.rated,
        "up": figures.up,
        "down": figures.down,
        "up_rate": None if figures.up_rate is None else round(figures.up_rate, 4),
        "with_comment": figures.commented,
        "judged": figures.judged,
        "agreement_with_judge": None if figures.agreement is None else round(figures.agreement, 4),
        "up_approved": figures.up_approved,
        "up_low": figures.up_low,
        "down_approved": figures.down_approved,
        "down_low": figures.down_low,
        "cases_opened": cases_opened,
    }


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
    week = simulate(database, start=now - timedelta(days=8), hours=24 * 7, n=2800, seed=seed)
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
    cases_opened = leave_feedback(
        database, FeedbackService(database, desk.rules), [*week, *day], seed=seed + 3
    )
    # Only escalations as gap evidence: the simulated questions mean nothing by themselves.
    clusters = suggestions(database, embedder, since=now - timedelta(days=2), retrieval_below=0.0)
    sampled_ids = {r.conversation_id for r in database.quality.reviews()}
    day_sampled = [c for c in day if c in sampled_ids]
    escalated = {c for c in day if not database.conversations.get(c).messages[-1].meta["answered"]}
    data = dashboard.build(
        database.quality.replies(since=now - timedelta(days=9)),
        database.quality.reviews(),
        [],
        feedback=database.feedback.recent(),
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
        "feedback": feedback_figures(data.feedback, cases_opened),
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
