"""What the dashboard shows, computed from records (pure), and its plots (PNG, inline)."""

from __future__ import annotations

import base64
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime

from matplotlib.figure import Figure
from pydantic import BaseModel, Field

from assistant.escalations.models import DraftCounts
from assistant.monitoring.agreement import Agreement, agreement
from assistant.monitoring.drift import DriftResult, categorical_drift
from assistant.monitoring.feedback import FeedbackFigures, feedback_figures
from assistant.monitoring.quality import METRICS
from assistant.storage.feedback import FeedbackRecord
from assistant.storage.quality import QualityReview, ReplyRecord


class Bucket(BaseModel):
    day: str
    messages: int
    escalated: int
    tier2: int
    checked: int

    @property
    def escalation_rate(self) -> float:
        return self.escalated / self.messages if self.messages else 0.0

    @property
    def tier2_share(self) -> float:
        return self.tier2 / self.checked if self.checked else 0.0


class DashboardData(BaseModel):
    days: list[Bucket]
    reasons: dict[str, int]
    judge_by_day: dict[str, dict[str, float]]  # day -> metric -> mean score (1-5)
    agreement: list[Agreement]
    queue_ages_minutes: list[float]
    reviewed: int
    sampled: int
    escalation_rate: float
    tier2_share: float
    judge_means: dict[str, float] = Field(default_factory=dict)
    drift: DriftResult | None = None
    # Customers' thumbs up and down, and how often they agree with the judge.
    feedback: FeedbackFigures = Field(default_factory=FeedbackFigures)
    # What agents' replies did with the withheld drafts (unchanged: a needless escalation).
    drafts: DraftCounts = Field(default_factory=DraftCounts)


def _day(at: datetime) -> str:
    return at.strftime("%Y-%m-%d")


def build(
    replies: Sequence[ReplyRecord],
    reviews: Sequence[QualityReview],
    queue_ages_minutes: Sequence[float],
    *,
    recent_since: datetime | None = None,
    feedback: Sequence[FeedbackRecord] = (),
    drafts: DraftCounts | None = None,
) -> DashboardData:
    """``recent_since`` splits the replies into a reference and a recent window for the
    issue-type drift view (none when not given). ``feedback``: the customers' ratings, held
    against the judge's scores of the same replies; ``drafts``: resolved cases by what the
    agent did with the draft."""
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: Counter[str] = Counter()
    for reply in replies:
        counts = per_day[_day(reply.created_at)]
        counts["messages"] += 1
        verdict = reply.trace.verdict
        if verdict.tier in (1, 2):
            counts["checked"] += 1
            counts["tier2"] += verdict.tier == 2
        if not reply.trace.answered:
            counts["escalated"] += 1
            for reason in [str(r) for r in verdict.reasons] or ["unknown"]:
                reasons[reason] += 1
    days = [
        Bucket(
            day=day,
            messages=c["messages"],
            escalated=c["escalated"],
            tier2=c["tier2"],
            checked=c["checked"],
        )
        for day, c in sorted(per_day.items())
    ]
    judge_day: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for review in reviews:
        for metric, score in review.judge_scores.items():
            judge_day[_day(review.sampled_at)][metric].append(score)
    judge_by_day = {
        day: {m: sum(v) / len(v) for m, v in metrics.items()}
        for day, metrics in sorted(judge_day.items())
    }
    human = [r for r in reviews if r.human_scores]
    agreements = [
        agreement(
            metric,
            [r.judge_scores[metric] for r in human if metric in (r.human_scores or {})],
            [(r.human_scores or {})[metric] for r in human if metric in (r.human_scores or {})],
        )
        for metric in METRICS
    ]
    total = sum(b.messages for b in days)
    checked = sum(b.checked for b in days)
    all_scores: dict[str, list[int]] = defaultdict(list)
    for review in reviews:
        for metric, score in review.judge_scores.items():
            all_scores[metric].append(score)
    return DashboardData(
        days=days,
        reasons=dict(reasons.most_common()),
        judge_by_day=judge_by_day,
        agreement=agreements,
        queue_ages_minutes=list(queue_ages_minutes),
        reviewed=len(human),
        sampled=len(reviews),
        escalation_rate=sum(b.escalated for b in days) / total if total else 0.0,
        tier2_share=sum(b.tier2 for b in days) / checked if checked else 0.0,
        judge_means={m: sum(v) / len(v) for m, v in all_scores.items()},
        drift=None if recent_since is None else _issue_drift(replies, recent_since),
        feedback=feedback_figures(feedback, reviews),
        drafts=drafts or DraftCounts(),
    )


def _issue_drift(replies: Sequence[ReplyRecord], recent_since: datetime) -> DriftResult:
    return categorical_drift(
        "issue_type",
        [r.trace.issue_type for r in replies if r.created_at < recent_since],
        [r.trace.issue_type for r in replies if r.created_at >= recent_since],
    )


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def plots(data: DashboardData) -> dict[str, str]:
    """Base64 PNGs: rates over time, escalations by reason, judge metrics over time, queue age."""
    out: dict[str, str] = {}
    days = [b.day[5:] for b in data.days]

    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    ax.plot(days, [b.escalation_rate for b in data.days], marker="o", label="escalation rate")
    ax.plot(days, [b.tier2_share for b in data.days], marker="s", label="tier-2 share")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    ax.set_title("Escalation rate and tier-2 share per day")
    ax.tick_params(axis="x", labelrotation=45)
    out["rates"] = _png(fig)

    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    reasons = list(data.reasons.items())[:10]
    ax.barh([r for r, _ in reasons], [n for _, n in reasons], color="#c62828")
    ax.invert_yaxis()
    ax.set_title("Escalations by reason")
    out["reasons"] = _png(fig)

    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    judge_days = list(data.judge_by_day)
    for metric in METRICS:
        ax.plot(
            [d[5:] for d in judge_days],
            [data.judge_by_day[d].get(metric, float("nan")) for d in judge_days],
            marker="o",
            label=metric,
        )
    ax.set_ylim(1, 5)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("Judge scores per day (sampled conversations)")
    ax.tick_params(axis="x", labelrotation=45)
    out["judge"] = _png(fig)

    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    ages = [a / 60 for a in data.queue_ages_minutes]
    if ages:
        ax.hist(ages, bins=12, color="#2f6fde")
        ax.set_xlabel("hours waiting")
    else:
        ax.text(0.5, 0.5, "the queue is empty", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title(f"Queue age ({len(ages)} waiting)")
    out["queue"] = _png(fig)

    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    if data.drift is not None and data.drift.top_changes:
        labels = [c[0] for c in data.drift.top_changes]
        x = list(range(len(labels)))
        ax.bar(
            [i - 0.2 for i in x],
            [c[1] for c in data.drift.top_changes],
            0.4,
            label="reference",
            color="#9bb7e8",
        )
        ax.bar(
            [i + 0.2 for i in x],
            [c[2] for c in data.drift.top_changes],
            0.4,
            label="last 24 h",
            color="#c62828" if data.drift.drifted else "#2f6fde",
        )
        ax.set_xticks(x, labels, rotation=20, fontsize=7)
        ax.legend()
        state = "DRIFT" if data.drift.drifted else "stable"
        ax.set_title(f"Issue types: biggest changes ({state}, JSD {data.drift.jsd:.3f})")
    else:
        ax.text(0.5, 0.5, "not enough traffic to compare", ha="center", va="center")
        ax.set_axis_off()
    out["drift"] = _png(fig)
    return out
