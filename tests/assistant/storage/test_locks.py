"""Job locks: one run at a time across processes, on SQLite and on PostgreSQL (integration)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from assistant.storage import Database
from assistant.storage.locks import AlreadyRunning, Job, JobRunningError, Lease, Ran
from assistant.storage.tables import utcnow


@pytest.fixture
def replica(any_database: Database) -> Iterator[Database]:
    """A second process's view of the same database: an engine and a pool of its own."""
    other = Database.connect(any_database.engine.url.render_as_string(hide_password=False))
    yield other
    other.close()


def test_a_second_acquire_is_told_who_runs_the_job(
    any_database: Database, replica: Database
) -> None:
    lease = any_database.locks.acquire(Job.MONITOR, holder="replica-a")
    assert isinstance(lease, Lease)

    busy = replica.locks.acquire(Job.MONITOR, holder="replica-b")

    assert isinstance(busy, AlreadyRunning)
    assert (busy.job, busy.holder, busy.since) == (Job.MONITOR, "replica-a", lease.acquired_at)
    assert "monitor is already running (replica-a" in busy.message
    assert isinstance(busy.error(), JobRunningError)
    assert isinstance(replica.locks.acquire(Job.INGEST, holder="replica-b"), Lease)  # other job
    assert any_database.locks.release(lease)
    assert replica.locks.current(Job.MONITOR) is None
    assert isinstance(replica.locks.acquire(Job.MONITOR, holder="replica-b"), Lease)


def test_an_expired_lease_is_taken_over_and_its_old_holder_cannot_renew_it(
    any_database: Database, replica: Database
) -> None:
    start = utcnow()
    old = any_database.locks.acquire(
        Job.MONITOR, holder="dead", ttl=timedelta(seconds=30), now=start
    )
    assert isinstance(old, Lease)
    later = start + timedelta(seconds=31)

    taken = replica.locks.acquire(Job.MONITOR, holder="alive", now=later)

    assert isinstance(taken, Lease) and taken.holder == "alive"
    assert any_database.locks.renew(old, now=later) is None
    assert not any_database.locks.release(old)
    current = replica.locks.current(Job.MONITOR)
    assert current is not None and current.holder == "alive"


def test_a_run_started_while_one_runs_does_not_run(
    any_database: Database, replica: Database
) -> None:
    started, finish = threading.Event(), threading.Event()
    results: list[Ran[str] | AlreadyRunning] = []

    def long_job() -> str:
        started.set()
        finish.wait(10)
        return "judged"

    first = threading.Thread(
        target=lambda: results.append(any_database.locks.run(Job.MONITOR, long_job))
    )
    first.start()
    assert started.wait(10)
    second = replica.locks.run(Job.MONITOR, lambda: "ran twice")
    finish.set()
    first.join(10)

    assert isinstance(second, AlreadyRunning)
    (ran,) = results
    assert isinstance(ran, Ran) and ran.value == "judged" and second.holder == ran.lease.holder
    assert any_database.locks.current(Job.MONITOR) is None  # released
    again = replica.locks.run(Job.MONITOR, lambda: "next run")
    assert isinstance(again, Ran) and again.value == "next run"


def test_a_run_that_raises_lets_the_job_go(any_database: Database) -> None:
    def broken() -> None:
        raise RuntimeError("judge down")

    with pytest.raises(RuntimeError, match="judge down"):
        any_database.locks.run(Job.MONITOR, broken)

    assert any_database.locks.current(Job.MONITOR) is None


def test_a_running_job_keeps_its_lease_past_its_first_expiry(
    any_database: Database, replica: Database
) -> None:
    ttl = timedelta(seconds=0.8)
    seen: list[Lease | AlreadyRunning] = []
    started = threading.Event()

    def job() -> None:
        started.set()
        threading.Event().wait(2.0)  # 2.5 leases: renewed every 0.2 s

    worker = threading.Thread(target=lambda: any_database.locks.run(Job.MONITOR, job, ttl=ttl))
    worker.start()
    assert started.wait(10)
    threading.Event().wait(1.4)
    seen.append(replica.locks.acquire(Job.MONITOR, holder="late", ttl=ttl))
    worker.join(10)

    assert isinstance(seen[0], AlreadyRunning)
    assert any_database.locks.current(Job.MONITOR) is None


def test_of_many_processes_trying_at_once_exactly_one_gets_the_job(
    any_database: Database,
) -> None:
    url = any_database.engine.url.render_as_string(hide_password=False)
    replicas = [Database.connect(url, migrate=False) for _ in range(6)]
    gate = threading.Barrier(len(replicas))
    outcomes: list[Lease | AlreadyRunning] = []

    def take(database: Database, n: int) -> None:
        gate.wait(10)
        outcomes.append(database.locks.acquire(Job.INGEST, holder=f"replica-{n}"))

    threads = [threading.Thread(target=take, args=(db, n)) for n, db in enumerate(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for database in replicas:
        database.close()

    (winner,) = [o for o in outcomes if isinstance(o, Lease)]
    losers = [o for o in outcomes if isinstance(o, AlreadyRunning)]
    assert len(losers) == 5 and {o.holder for o in losers} == {winner.holder}
