from datetime import UTC, datetime

from assistant.escalations.models import DraftCounts
from assistant.monitoring import dashboard
from assistant.monitoring.feedback import feedback_figures, judge_approves
from assistant.storage.feedback import FeedbackRecord
from assistant.storage.quality import QualityReview

AT = datetime(2026, 12, 3, 12, tzinfo=UTC)
FIVE = ("retrieval", "accuracy", "language", "coherence", "relevance")


def rated(message_id: str, rating: str, comment: str | None = None) -> FeedbackRecord:
    return FeedbackRecord.model_validate(
        {
            "conversation_id": f"c-{message_id}",
            "message_id": message_id,
            "rating": rating,
            "comment": comment,
            "created_at": AT,
            "updated_at": AT,
        }
    )


def judged(message_id: str, low: int = 0) -> QualityReview:
    scores = {m: 2 if i < low else 4 for i, m in enumerate(FIVE)}
    return QualityReview(
        conversation_id=f"c-{message_id}",
        message_id=message_id,
        sampled_at=AT,
        judge_model="judge",
        judge_scores=scores,
        judge_rationales={},
        human_scores=None,
        reviewed_by=None,
        reviewed_at=None,
    )


def test_the_judge_approves_a_reply_with_no_low_score() -> None:
    assert judge_approves(dict.fromkeys(FIVE, 3))
    assert not judge_approves({**dict.fromkeys(FIVE, 5), "relevance": 2})
    assert not judge_approves({})


def test_counts_and_agreement_with_the_judge_on_the_replies_both_rated() -> None:
    feedback = [
        rated("a", "up"),  # judge approves: agree
        rated("b", "up"),  # judge scored low: disagree
        rated("c", "down", "wrong fee"),  # judge scored low: agree
        rated("d", "down"),  # judge approves: disagree
        rated("e", "up"),  # not judged
    ]
    reviews = [judged("a"), judged("b", low=1), judged("c", low=5), judged("d"), judged("z")]
    figures = feedback_figures(feedback, reviews)
    assert (figures.up, figures.down, figures.rated, figures.commented) == (3, 2, 5, 1)
    assert figures.up_rate == 0.6
    assert (figures.up_approved, figures.up_low, figures.down_approved, figures.down_low) == (
        1,
        1,
        1,
        1,
    )
    assert figures.judged == 4
    assert figures.agreement == 0.5


def test_no_feedback_has_no_rates() -> None:
    figures = feedback_figures([], [judged("a")])
    assert (figures.up_rate, figures.agreement, figures.judged) == (None, None, 0)


def test_the_dashboard_carries_feedback_and_draft_shares() -> None:
    data = dashboard.build(
        [],
        [judged("a")],
        [],
        feedback=[rated("a", "up"), rated("b", "down")],
        drafts=DraftCounts(unchanged=1, edited=3),
    )
    assert (data.feedback.up, data.feedback.down, data.feedback.agreement) == (1, 1, 1.0)
    assert data.drafts.with_draft == 4
    assert dashboard.build([], [], []).drafts == DraftCounts()
