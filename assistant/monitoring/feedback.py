"""Customer feedback beside the judge (pure): how many replies were rated up and down, and how
often the customer's rating agrees with the monitor's judge on the replies both rated.

The judge *approves* a reply when none of its five scores is low (1-2 of 5, the same bar as a
knowledge-base gap: ``kb_gaps.LOW_SCORE``). Customer and judge agree on a reply when a thumbs up
meets an approval or a thumbs down meets a low score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from assistant.monitoring.kb_gaps import LOW_SCORE
from assistant.storage.feedback import FeedbackRecord
from assistant.storage.quality import QualityReview


def judge_approves(scores: Mapping[str, int]) -> bool:
    return bool(scores) and min(scores.values()) > LOW_SCORE


class FeedbackFigures(BaseModel):
    up: int = 0
    down: int = 0
    commented: int = 0
    # Rated replies the judge scored too, by (customer, judge).
    up_approved: int = 0
    up_low: int = 0
    down_approved: int = 0
    down_low: int = 0

    @property
    def rated(self) -> int:
        return self.up + self.down

    @property
    def up_rate(self) -> float | None:
        return self.up / self.rated if self.rated else None

    @property
    def judged(self) -> int:
        return self.up_approved + self.up_low + self.down_approved + self.down_low

    @property
    def agreement(self) -> float | None:
        """The share of rated and judged replies where (thumbs up) == (the judge approves)."""
        agreed = self.up_approved + self.down_low
        return agreed / self.judged if self.judged else None


def feedback_figures(
    feedback: Sequence[FeedbackRecord], reviews: Sequence[QualityReview]
) -> FeedbackFigures:
    judged = {r.message_id: judge_approves(r.judge_scores) for r in reviews if r.judge_scores}
    figures = FeedbackFigures()
    for f in feedback:
        up = f.rating == "up"
        figures.up += up
        figures.down += not up
        figures.commented += bool(f.comment)
        approved = judged.get(f.message_id)
        if approved is None:
            continue
        if up:
            figures.up_approved += approved
            figures.up_low += not approved
        else:
            figures.down_approved += approved
            figures.down_low += not approved
    return figures
