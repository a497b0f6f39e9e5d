from datetime import UTC, datetime, timedelta

from assistant.console.views import Segment, age_label, answer_segments, due_label, judge_rows
from guardrails.verdict import JudgeCriterion, JudgeVerdict, SentenceFinding, Verdict


def flagged(*sentences: str) -> list[SentenceFinding]:
    return [SentenceFinding(sentence=s, score=0.1, supported=False) for s in sentences]


def test_flagged_sentences_are_cut_out_where_they_stand() -> None:
    answer = "Refunds take 7 days. Loyal customers always win. Contact us."
    segments = answer_segments(answer, flagged("Loyal customers always win.", "not in the answer"))
    assert segments == [
        Segment("Refunds take 7 days. "),
        Segment("Loyal customers always win.", 0),
        Segment(" Contact us."),
    ]
    assert "".join(s.text for s in segments) == answer


def test_case_differences_still_highlight_and_overlaps_do_not_double() -> None:
    segments = answer_segments("ALWAYS refund. x", flagged("always refund.", "refund."))
    assert segments == [Segment("ALWAYS refund.", 0), Segment(" x")]
    assert answer_segments("", flagged("a")) == []


def test_judge_rows_and_age_labels() -> None:
    judge = JudgeVerdict(
        grounding=JudgeCriterion(ok=False, rationale="7 not 30"),
        coherence=JudgeCriterion(ok=True),
        compliance=JudgeCriterion(ok=True, rationale="no promise"),
    )
    verdict = Verdict(outcome="escalate", judge=judge)
    assert judge_rows(verdict) == [
        ("grounding", False, "7 not 30"),
        ("coherence", True, ""),
        ("compliance", True, "no promise"),
    ]
    assert judge_rows(Verdict(outcome="pass")) == []
    grounded = Verdict(outcome="pass", tier=2, grounding_probability=0.91)
    assert judge_rows(grounded) == [("grounding", True, "91% likely supported by the passages")]
    assert [age_label(m) for m in (0.2, 5, 90, 3000)] == ["just now", "5 min", "1.5 h", "2.1 d"]


def test_due_labels_say_how_long_is_left_or_how_late() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert due_label(now + timedelta(minutes=45), now) == "in 45 min"
    assert due_label(now - timedelta(hours=3), now) == "overdue 3.0 h"
