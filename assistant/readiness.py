"""Readiness that never waits behind the work it reports on.

Each component (the model, the vector store, the database) is probed on a thread of its own,
at most one probe per component at a time; a probe that has not answered within ``timeout``
counts as not ready, and results are kept for ``keep_s`` seconds. So a hanging model makes
``/readyz`` say "not ready" within a second, and a flood of probes starts no flood of threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class Probe:
    def __init__(self, check: Callable[[], bool]) -> None:
        self._check = check
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._result = False
        self._running = False
        self._at = float("-inf")

    def _run(self) -> None:
        try:
            result = bool(self._check())
        except Exception:  # a failing check is "not ready", never an error page
            result = False
        with self._lock:
            self._result, self._at, self._running = result, time.monotonic(), False
        self._done.set()

    def start(self, keep_s: float) -> threading.Event:
        """A probe's answer: kept from the last ``keep_s`` seconds, or being asked now (one probe
        at a time); the event is set once it is there."""
        with self._lock:
            if time.monotonic() - self._at >= keep_s and not self._running:
                self._running = True
                self._done.clear()
                threading.Thread(target=self._run, name="tether-probe", daemon=True).start()
            elif time.monotonic() - self._at < keep_s:
                fresh = threading.Event()
                fresh.set()
                return fresh
            return self._done

    def forget(self) -> None:
        with self._lock:
            self._at = float("-inf")

    @property
    def result(self) -> bool:
        with self._lock:
            return self._result


class Readiness:
    def __init__(
        self, checks: Mapping[str, Callable[[], bool]], *, timeout: float = 1.0, keep_s: float = 5.0
    ) -> None:
        self._probes = {name: Probe(check) for name, check in checks.items()}
        self._timeout = timeout
        self._keep_s = keep_s

    def forget(self) -> None:
        """Drop the kept results: the next check probes again."""
        for probe in self._probes.values():
            probe.forget()

    def check(self) -> dict[str, bool]:
        """Each component's readiness, within about ``timeout`` seconds in all."""
        deadline = time.monotonic() + self._timeout
        asked = {name: probe.start(self._keep_s) for name, probe in self._probes.items()}
        return {
            name: answered.wait(max(deadline - time.monotonic(), 0.0)) and self._probes[name].result
            for name, answered in asked.items()
        }
