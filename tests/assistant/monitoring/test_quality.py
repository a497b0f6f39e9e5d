"""The monitor on simulated traffic: uniform sampling, judge scores stored with rationales,
drift alerts for a planted shift and none for an unchanged stream, human calibration."""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from assistant.monitoring import dashboard
from assistant.monitoring.quality import (
    MonitorReport,
    check_drift,
    parse_scores,
    run_monitor,
    sample_and_judge,
)
from assistant.pipeline.trace import ReplyTrace
from assistant.storage import Database, StoredMessage
from assistant.storage.locks import AlreadyRunning, Job, Lease
from assistant.storage.tables import utcnow
from core.errors import ConflictError, NotFoundError
from core.llm.fake import FakeChatModel
from core.prompts import resolve_prompt
from tests.assistant.monitoring.traffic import ISSUES, kind_judge, monitor_json, simulate


def _answered(message: StoredMessage) -> bool:
    trace = message.trace
    assert isinstance(trace, ReplyTrace)
    return trace.answered


NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PROMPT = resolve_prompt("monitor@1")


def test_a_random_share_of_finished_conversations_is_judged_escalated_or_not(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sampling hashes conversation ids; seeded ids make the draw the same on every run (with
    # fresh uuid4 ids the test failed now and then: seen once in a full unit run, 2026-11-22).
    rng = random.Random(7)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=rng.getrandbits(128), version=4))
    ids = simulate(database, start=NOW - timedelta(hours=30), hours=24, n=400, seed=1)
    model = FakeChatModel(responder=kind_judge)
    report = sample_and_judge(database, model, PROMPT, share=0.25, finished_minutes=30, now=NOW)
    assert report.considered == 400
    assert 70 <= report.sampled <= 130  # 25% of 400, binomial spread
    assert report.judged == report.sampled
    reviews = database.quality.reviews()
    assert len(reviews) == report.judged
    assert reviews[0].judge_scores == {m: 4 for m in reviews[0].judge_scores}
    assert set(reviews[0].judge_rationales) == {
        "retrieval",
        "accuracy",
        "language",
        "coherence",
        "relevance",
    }
    # no selection bias: escalated conversations are sampled at the same rate as the rest
    sampled = {r.conversation_id for r in reviews}
    escalated = {c for c in ids if not _answered(database.conversations.get(c).messages[-1])}
    rate_escalated = len(sampled & escalated) / len(escalated)
    rate_answered = len(sampled - escalated) / (len(ids) - len(escalated))
    assert abs(rate_escalated - rate_answered) < 0.12
    # a second run judges nothing twice
    again = sample_and_judge(database, model, PROMPT, share=0.25, finished_minutes=30, now=NOW)
    assert again.judged == 0


def test_a_monitor_run_started_while_another_runs_judges_nothing(database: Database) -> None:
    simulate(database, start=utcnow() - timedelta(hours=3), hours=2, n=6, seed=10)
    model = FakeChatModel(responder=kind_judge)
    other = database.locks.acquire(Job.MONITOR, holder="replica-b")
    assert isinstance(other, Lease)

    busy = run_monitor(database, model, PROMPT, share=1.0, finished_minutes=0)

    assert isinstance(busy, AlreadyRunning) and busy.holder == "replica-b"
    assert model.calls == [] and database.quality.reviews() == []
    database.locks.release(other)
    ran = run_monitor(database, model, PROMPT, share=1.0, finished_minutes=0)
    assert isinstance(ran, MonitorReport) and ran.judged == 6
    assert [r.feature for r in ran.drift] == ["issue_type", "retrieval_best"]
    assert database.locks.current(Job.MONITOR) is None


def test_unfinished_conversations_wait_and_bad_judge_output_scores_nothing(
    database: Database,
) -> None:
    simulate(database, start=NOW - timedelta(minutes=10), hours=0.1, n=5, seed=2)
    model = FakeChatModel(responder=lambda _: "no idea")
    early = sample_and_judge(database, model, PROMPT, share=1.0, finished_minutes=30, now=NOW)
    assert early.considered == 0
    later = sample_and_judge(
        database, model, PROMPT, share=1.0, finished_minutes=30, now=NOW + timedelta(hours=1)
    )
    assert (later.sampled, later.judged, later.failed) == (5, 0, 5)
    assert database.quality.reviews() == []


def test_scores_must_all_be_there_and_on_the_scale() -> None:
    assert parse_scores(monitor_json(5)) is not None
    assert parse_scores('{"retrieval": {"score": 9}}') is None
    assert parse_scores(monitor_json(0)) is None
    assert parse_scores("prose") is None


@pytest.fixture(scope="module")
def reference_week() -> Iterator[Database]:
    """A week of ordinary traffic before the recent day, simulated once for the drift tests
    (simulating it took seconds a test); each test gets a copy, since the check writes alerts."""
    db = Database.connect("sqlite://")
    simulate(db, start=NOW - timedelta(days=8), hours=24 * 7, n=700, seed=3)
    yield db
    db.close()


@pytest.fixture
def after_a_week(reference_week: Database) -> Iterator[Database]:
    """A database in memory holding a copy of the reference week."""
    db = Database.connect("sqlite://", migrate=False)
    source, target = reference_week.engine.raw_connection(), db.engine.raw_connection()
    try:
        source.driver_connection.backup(target.driver_connection)  # type: ignore[union-attr]
    finally:
        source.close()
        target.close()
    yield db
    db.close()


def test_a_planted_shift_in_issue_types_raises_a_drift_alert(
    after_a_week: Database, caplog: pytest.LogCaptureFixture
) -> None:
    shifted = {**ISSUES, "safety_incidents": 0.30, "payments_and_pay": 0.10}
    simulate(after_a_week, start=NOW - timedelta(hours=24), hours=23, n=200, seed=4, issues=shifted)
    with caplog.at_level(logging.WARNING, logger="assistant.monitoring.quality"):
        results = check_drift(after_a_week, now=NOW)
    issue = next(r for r in results if r.feature == "issue_type")
    assert issue.drifted
    assert issue.top_changes[0][0] == "safety_incidents"
    alerts = after_a_week.quality.alerts()
    assert [a.feature for a in alerts] == ["issue_type"]
    assert any(r.getMessage() == "drift" for r in caplog.records)


def test_an_unchanged_stream_raises_no_alert(after_a_week: Database) -> None:
    simulate(after_a_week, start=NOW - timedelta(hours=24), hours=23, n=200, seed=6)
    results = check_drift(after_a_week, now=NOW)
    assert [r.drifted for r in results] == [False, False]
    assert after_a_week.quality.alerts() == []


def test_a_shift_in_retrieval_scores_is_drift_too(after_a_week: Database) -> None:
    simulate(
        after_a_week, start=NOW - timedelta(hours=24), hours=23, n=200, seed=8, retrieval=(3.0, 5.0)
    )
    results = {r.feature: r for r in check_drift(after_a_week, now=NOW)}
    assert results["retrieval_best"].drifted


def test_people_calibrate_the_judge_and_the_dashboard_shows_agreement(
    database: Database,
) -> None:
    simulate(database, start=NOW - timedelta(hours=30), hours=24, n=60, seed=9)
    sample_and_judge(
        database,
        FakeChatModel(responder=kind_judge),
        PROMPT,
        share=1.0,
        finished_minutes=30,
        now=NOW,
    )
    reviews = database.quality.reviews()
    for n, review in enumerate(reviews):
        score = 4 if n % 3 else 2  # people disagree with the judge on a third
        database.quality.save_human(
            review.conversation_id, "alice", {m: score for m in review.judge_scores}
        )
    with pytest.raises(ConflictError, match="already reviewed by alice"):
        database.quality.save_human(reviews[0].conversation_id, "bob", {"accuracy": 3})
    with pytest.raises(NotFoundError):
        database.quality.save_human("nope", "bob", {"accuracy": 3})
    data = dashboard.build(
        database.quality.replies(since=NOW - timedelta(days=3)), database.quality.reviews(), [5.0]
    )
    assert data.reviewed == 60
    accuracy = next(a for a in data.agreement if a.metric == "accuracy")
    assert accuracy.n == 60
    assert accuracy.disagreement_rate == pytest.approx(20 / 60)
    assert 0.15 <= data.escalation_rate <= 0.3
    images = dashboard.plots(data)
    assert set(images) == {"rates", "reasons", "judge", "queue", "drift"}


def test_passed_over_conversations_never_crowd_out_newer_ones(database: Database) -> None:
    simulate(database, start=NOW - timedelta(days=3), hours=1, n=20, seed=10)
    newest = simulate(database, start=NOW - timedelta(hours=2), hours=1, n=5, seed=11)
    found = database.quality.finished_unreviewed(before=NOW, limit=5)
    assert sorted(found) == sorted(newest)
    # and nothing older than the look-back window is considered at all
    assert database.quality.finished_unreviewed(
        before=NOW, after=NOW - timedelta(days=1)
    ) == database.quality.finished_unreviewed(before=NOW, after=NOW - timedelta(days=1), limit=99)
    assert len(database.quality.finished_unreviewed(before=NOW, after=NOW - timedelta(days=1))) == 5
