"""Job locks in the database: a job that must not run twice at once, whichever replica starts
it (the monitor run, an ingest of the knowledge base), first takes a lease on its row.

Taking it is one statement, the same on SQLite and PostgreSQL::

    INSERT INTO job_locks (job, holder, acquired_at, expires_at) VALUES (...)
    ON CONFLICT (job) DO UPDATE SET holder = ..., ... WHERE job_locks.expires_at < :now
    RETURNING holder

It inserts the row when nobody holds the job, takes it over when the holder's lease has run
out, and otherwise changes nothing and returns no row. Two processes that try at once meet on
the row (PostgreSQL's row lock, SQLite's write lock): exactly one gets it, the other is told who
runs the job (:class:`AlreadyRunning`). While the job runs a thread renews the lease; when it
ends the row is deleted. A holder that dies without deleting it (killed, its machine gone) keeps
the job from running until its lease expires: at most ``LEASE``.

Not ``pg_try_advisory_lock``: it holds one connection for the whole job, dies with it when the
pool recycles it, and SQLite would need a second design; the lease is one design on both
backends, and ``SELECT * FROM job_locks`` shows who runs what.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult

from assistant.storage.engine import Sessions
from assistant.storage.tables import JobLockRow, utcnow
from core.errors import ConflictError, DatabaseError

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a lease lasts unless renewed; a running job renews it every quarter of that.
LEASE = timedelta(minutes=2)


class Job(StrEnum):
    """The jobs that run at most once at a time across every process on one database."""

    MONITOR = "monitor"  # tether monitor run: sample, judge, drift
    INGEST = "kb-ingest"  # bringing the vector store in line with the articles (gap articles too)


class Lease(BaseModel):
    job: Job
    holder: str
    acquired_at: datetime
    expires_at: datetime


class AlreadyRunning(BaseModel):
    """The job is held by another run: who holds it, since when, and until when its lease lasts
    unless renewed."""

    job: Job
    holder: str
    since: datetime
    until: datetime

    @property
    def message(self) -> str:
        return f"{self.job} is already running ({self.holder}, since {self.since:%H:%M:%S} UTC)"

    def error(self) -> JobRunningError:
        return JobRunningError(self.message)


class JobRunningError(ConflictError):
    """Raised where a caller needs an exception (the API's 409): the job is already running."""


@dataclass(frozen=True)
class Ran(Generic[T]):
    """The job ran here: what it returned and the lease it ran under."""

    value: T
    lease: Lease


def this_process() -> str:
    """A holder name: the machine and process, and a random part unique to this lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _rowcount(result: object) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


class JobLockStore:
    def __init__(self, sessions: Sessions) -> None:
        self._db = sessions

    def acquire(
        self,
        job: Job,
        *,
        ttl: timedelta = LEASE,
        holder: str | None = None,
        now: datetime | None = None,
    ) -> Lease | AlreadyRunning:
        """The job's lease for ``holder`` (this process by default), or who holds it now."""
        holder = holder or this_process()
        for _ in range(3):  # the holder may let go between our try and our look
            now_ = now or utcnow()
            insert = pg_insert if self._db.backend == "postgresql" else sqlite_insert
            values = insert(JobLockRow).values(
                job=str(job), holder=holder, acquired_at=now_, expires_at=now_ + ttl
            )
            take = values.on_conflict_do_update(
                index_elements=[JobLockRow.job],
                set_={
                    "holder": values.excluded.holder,
                    "acquired_at": values.excluded.acquired_at,
                    "expires_at": values.excluded.expires_at,
                },
                where=JobLockRow.expires_at < now_,
            ).returning(JobLockRow.holder)
            with self._db.session() as session:
                if session.execute(take).scalar_one_or_none() == holder:
                    return Lease(job=job, holder=holder, acquired_at=now_, expires_at=now_ + ttl)
                row = session.get(JobLockRow, str(job))
                if row is not None:
                    return AlreadyRunning(
                        job=job, holder=row.holder, since=row.acquired_at, until=row.expires_at
                    )
        raise DatabaseError(f"the lock of {job} changed hands three times while taking it")

    def renew(
        self, lease: Lease, *, ttl: timedelta = LEASE, now: datetime | None = None
    ) -> Lease | None:
        """The lease, lasting ``ttl`` from now; None when it is no longer ours (it expired
        and another process took the job over)."""
        until = (now or utcnow()) + ttl
        with self._db.session() as session:
            renewed = _rowcount(
                session.execute(
                    update(JobLockRow)
                    .where(JobLockRow.job == str(lease.job), JobLockRow.holder == lease.holder)
                    .values(expires_at=until)
                )
            )
        return lease.model_copy(update={"expires_at": until}) if renewed == 1 else None

    def release(self, lease: Lease) -> bool:
        """Let the job go; False when the lease was no longer ours."""
        with self._db.session() as session:
            result = session.execute(
                delete(JobLockRow).where(
                    JobLockRow.job == str(lease.job), JobLockRow.holder == lease.holder
                )
            )
            return _rowcount(result) == 1

    def current(self, job: Job) -> AlreadyRunning | None:
        """Who holds the job now (an expired lease counts: nobody has taken it over yet)."""
        with self._db.session() as session:
            row = session.scalars(select(JobLockRow).where(JobLockRow.job == str(job))).first()
            if row is None:
                return None
            return AlreadyRunning(
                job=job, holder=row.holder, since=row.acquired_at, until=row.expires_at
            )

    def run(
        self, job: Job, work: Callable[[], T], *, ttl: timedelta = LEASE
    ) -> Ran[T] | AlreadyRunning:
        """``work()`` under the job's lease, renewed every quarter of ``ttl`` while it runs and
        released when it ends (raising or not); or, without running it, who runs the job now."""
        taken = self.acquire(job, ttl=ttl)
        if isinstance(taken, AlreadyRunning):
            log.info("job already running", extra={"job": str(job), "holder": taken.holder})
            return taken
        stop = threading.Event()
        keeper = threading.Thread(
            target=self._keep, args=(taken, ttl, stop), name=f"tether-lease-{job}", daemon=True
        )
        keeper.start()
        try:
            return Ran(value=work(), lease=taken)
        finally:
            stop.set()
            keeper.join()
            try:
                self.release(taken)
            except DatabaseError as exc:  # it expires by itself
                log.warning(
                    "releasing a job lock failed", extra={"job": str(job), "error": str(exc)}
                )

    def _keep(self, lease: Lease, ttl: timedelta, stop: threading.Event) -> None:
        while not stop.wait(ttl.total_seconds() / 4):
            try:
                renewed = self.renew(lease, ttl=ttl)
            except DatabaseError as exc:  # try again at the next beat; the lease may still hold
                log.warning(
                    "renewing a job lock failed", extra={"job": str(lease.job), "error": str(exc)}
                )
                continue
            if renewed is None:
                log.warning("job lock lost: its lease ran out", extra={"job": str(lease.job)})
                return
