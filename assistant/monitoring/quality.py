"""The quality monitor on live traffic: a random share of finished conversations (escalated or
not: no selection bias) is scored by the LLM judge on five metrics, each with its rationale; and
the recent window's issue types and retrieval scores are compared with a reference window.

Run it on a schedule (``tether monitor run``); results go to the database, alerts to the log.
A run takes the monitor's job lock first (assistant/storage/locks.py): one started while another
runs, from this machine or another replica, does not run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from assistant.monitoring.drift import DriftResult, categorical_drift, numeric_drift
from assistant.monitoring.sampling import sampled
from assistant.storage import Database, StoredMessage
from assistant.storage.locks import AlreadyRunning, Job
from assistant.storage.quality import DriftAlert
from assistant.storage.tables import utcnow
from core.conversation import SPEAKERS, transcript
from core.llm.base import ChatModel
from core.prompts import Prompt
from core.prompts.ask import ask_parsed
from core.prompts.ask import parse_scores as read_scores

log = logging.getLogger(__name__)


class Metric(StrEnum):
    """What the monitor's judge scores, 1 to 5."""

    RETRIEVAL = "retrieval"
    ACCURACY = "accuracy"
    LANGUAGE = "language"
    COHERENCE = "coherence"
    RELEVANCE = "relevance"


METRICS = tuple(Metric)


class MonitorReport(BaseModel):
    considered: int = 0
    sampled: int = 0
    judged: int = 0
    failed: int = 0
    drift: list[DriftResult] = Field(default_factory=list)


def parse_scores(text: str) -> tuple[dict[str, int], dict[str, str]] | None:
    """``{"retrieval": {"rationale": ..., "score": 4}, ...}``; None unless all five are 1-5."""
    scores = read_scores(text, METRICS, nested=True)
    if scores is None:
        return None
    return (
        {name: round(score.value) for name, score in scores.items()},
        {name: score.rationale for name, score in scores.items()},
    )


def _render(messages: list[StoredMessage], last: StoredMessage) -> dict[str, str]:
    before = [m.turn for m in messages if m.id != last.id and m.turn is not None]
    passages = last.trace.passages if last.trace is not None else []
    return {
        "conversation": transcript(before, SPEAKERS) or "(none)",
        "passages": "\n\n".join(f"[{p.article_id}] {p.text}" for p in passages)
        or "(none: the assistant handed the conversation over)",
        "answer": last.text,
    }


def judge_conversation(
    model: ChatModel, prompt: Prompt, messages: list[StoredMessage]
) -> tuple[StoredMessage, dict[str, int], dict[str, str]] | None:
    """Scores of the conversation's last assistant reply; None when the judge gives none."""
    replies = [m for m in messages if m.role == "assistant"]
    if not replies:
        return None
    last = replies[-1]
    parsed = ask_parsed(model, prompt, _render(messages, last), parse_scores)
    return None if parsed is None else (last, *parsed)


def sample_and_judge(
    database: Database,
    model: ChatModel,
    prompt: Prompt,
    *,
    share: float,
    finished_minutes: float,
    now: datetime | None = None,
    lookback: timedelta = timedelta(days=7),
    limit: int = 5000,
) -> MonitorReport:
    """Judge the sampled share of the conversations that finished in the last ``lookback``."""
    now = now or utcnow()
    report = MonitorReport()
    before = now - timedelta(minutes=finished_minutes)
    candidates = database.quality.finished_unreviewed(
        before=before, after=before - lookback, limit=limit
    )
    report.considered = len(candidates)
    for conversation_id in candidates:
        if not sampled(conversation_id, share):
            continue
        report.sampled += 1
        messages = database.conversations.get(conversation_id).messages
        judged = judge_conversation(model, prompt, messages)
        if judged is None:
            report.failed += 1
            log.warning("judge gave no scores", extra={"conversation_id": conversation_id})
            continue
        last, scores, rationales = judged
        database.quality.save_judgement(
            conversation_id,
            last.id,
            model=model.name,
            scores=scores,
            rationales=rationales,
            at=now,
        )
        report.judged += 1
    return report


def check_drift(
    database: Database,
    *,
    now: datetime | None = None,
    recent: timedelta = timedelta(hours=24),
    reference: timedelta = timedelta(days=7),
) -> list[DriftResult]:
    """Issue types and best retrieval scores of the recent window against the reference window
    before it; each drift becomes an alert in the database and a warning in the log."""
    now = now or utcnow()
    start = now - recent
    before = database.quality.replies(since=start - reference, until=start)
    latest = database.quality.replies(since=start, until=now)
    results = [
        categorical_drift(
            "issue_type",
            [r.trace.issue_type for r in before],
            [r.trace.issue_type for r in latest],
        ),
        numeric_drift(
            "retrieval_best",
            [r.trace.retrieval_best for r in before if r.trace.retrieval_best],
            [r.trace.retrieval_best for r in latest if r.trace.retrieval_best],
        ),
    ]
    for result in results:
        if result.drifted:
            database.quality.add_alert(
                DriftAlert(
                    at=now,
                    feature=result.feature,
                    p_value=result.p_value,
                    jsd=result.jsd,
                    detail={"top_changes": result.top_changes, "n_recent": result.n_recent},
                )
            )
            log.warning(
                "drift",
                extra={
                    "feature": result.feature,
                    "p_value": result.p_value,
                    "jsd": result.jsd,
                    "top_changes": result.top_changes,
                },
            )
    return results


def run_monitor(
    database: Database,
    model: ChatModel,
    prompt: Prompt,
    *,
    share: float,
    finished_minutes: float,
    recent: timedelta = timedelta(hours=24),
    reference: timedelta = timedelta(days=7),
) -> MonitorReport | AlreadyRunning:
    """One scheduled run, sampling and judging then the drift check, under the monitor's job
    lock; or, when another run holds it, who runs it (nothing is judged twice)."""

    def run() -> MonitorReport:
        report = sample_and_judge(
            database, model, prompt, share=share, finished_minutes=finished_minutes
        )
        report.drift = check_drift(database, recent=recent, reference=reference)
        return report

    outcome = database.locks.run(Job.MONITOR, run)
    return outcome if isinstance(outcome, AlreadyRunning) else outcome.value
