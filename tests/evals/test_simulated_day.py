"""The simulated customers' feedback: deterministic by seed, thumbs-down more often on the replies
the scripted judge scores low, a case for each thumbs-down on an answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from assistant.escalations.priority import load_priority_rules
from assistant.feedback import FeedbackService
from assistant.monitoring.feedback import feedback_figures, judge_approves
from assistant.monitoring.quality import sample_and_judge
from assistant.settings import Settings
from assistant.storage import Database
from core.llm.fake import FakeChatModel
from core.prompts import resolve_prompt
from evals.simulated_day import HANDOFF_TEXT, leave_feedback, scripted_judge, simulate

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def simulated_day() -> Iterator[tuple[Database, list[str]]]:
    """The day simulated once for the module (300 conversations took ~0.7 s to write)."""
    database = Database.connect("sqlite://")
    ids = simulate(database, start=NOW - timedelta(hours=10), hours=8, n=300, seed=11)
    yield database, ids
    database.close()


@pytest.fixture
def day(simulated_day: tuple[Database, list[str]]) -> Iterator[tuple[Database, list[str]]]:
    """A copy of the simulated day in memory for each test, since the tests write feedback."""
    source_db, ids = simulated_day
    database = Database.connect("sqlite://", migrate=False)
    source, target = source_db.engine.raw_connection(), database.engine.raw_connection()
    try:
        source.driver_connection.backup(target.driver_connection)  # type: ignore[union-attr]
    finally:
        source.close()
        target.close()
    yield database, ids
    database.close()


def test_customers_rate_a_share_and_a_thumbs_down_on_an_answer_opens_a_case(
    day: tuple[Database, list[str]],
) -> None:
    database, ids = day
    service = FeedbackService(database, load_priority_rules(Settings().priority_rules_path))
    opened = leave_feedback(database, service, ids, seed=3, share=0.5)
    feedback = database.feedback.recent()
    assert 100 < len(feedback) < 200
    replies = {m.id: m for c in ids for m in database.conversations.get(c).messages}
    downs_on_answers = [
        f for f in feedback if f.rating == "down" and HANDOFF_TEXT not in replies[f.message_id].text
    ]
    assert opened == len(downs_on_answers) == database.escalations.page().total
    assert all(f.escalation_id for f in downs_on_answers)
    # the same seed rates the same replies the same way
    again = Database.connect("sqlite://")
    try:
        ids_again = simulate(again, start=NOW - timedelta(hours=10), hours=8, n=300, seed=11)
        leave_feedback(again, FeedbackService(again, service.rules), ids_again, seed=3, share=0.5)
        position = {c: i for i, c in enumerate(ids)}
        position_again = {c: i for i, c in enumerate(ids_again)}
        assert sorted((position[f.conversation_id], f.rating) for f in feedback) == sorted(
            (position_again[f.conversation_id], f.rating) for f in again.feedback.recent()
        )
    finally:
        again.close()


def test_thumbs_down_follow_the_judges_low_scores(day: tuple[Database, list[str]]) -> None:
    database, ids = day
    report = sample_and_judge(
        database,
        FakeChatModel(responder=scripted_judge),
        resolve_prompt("monitor@1"),
        share=1.0,
        finished_minutes=30,
        now=NOW,
    )
    assert report.judged == 300
    service = FeedbackService(database, load_priority_rules(Settings().priority_rules_path))
    leave_feedback(database, service, ids, seed=4, share=1.0)
    reviews = database.quality.reviews()
    approved = {r.message_id: judge_approves(r.judge_scores) for r in reviews}
    feedback = database.feedback.recent()

    def down_rate(judge_ok: bool) -> float:
        rated = [f for f in feedback if approved[f.message_id] is judge_ok]
        return sum(f.rating == "down" for f in rated) / len(rated)

    assert down_rate(judge_ok=False) > 0.4 > 0.2 > down_rate(judge_ok=True)
    figures = feedback_figures(feedback, reviews)
    assert figures.judged == 300
    assert figures.agreement is not None
    assert figures.agreement > 0.7
