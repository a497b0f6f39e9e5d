from __future__ import annotations

import threading
import time

from assistant.readiness import Readiness


def test_a_hanging_check_is_not_ready_within_the_timeout_and_starts_one_probe() -> None:
    release = threading.Event()
    started: list[float] = []

    def hanging() -> bool:
        started.append(time.monotonic())
        release.wait(10)
        return True

    readiness = Readiness({"model": hanging, "database": lambda: True}, timeout=0.2, keep_s=5)
    begin = time.monotonic()
    assert readiness.check() == {"model": False, "database": True}
    assert time.monotonic() - begin < 1.0
    for _ in range(5):  # more probes while it hangs start no more threads
        assert readiness.check()["model"] is False
    assert len(started) == 1
    release.set()
    time.sleep(0.05)
    assert readiness.check() == {"model": True, "database": True}


def test_a_check_that_raises_is_not_ready_and_results_are_kept_a_while() -> None:
    calls: list[int] = []

    def failing() -> bool:
        calls.append(1)
        raise RuntimeError("down")

    readiness = Readiness({"store": failing}, timeout=0.5, keep_s=60)
    assert readiness.check() == {"store": False}
    assert readiness.check() == {"store": False}
    assert len(calls) == 1  # kept, not asked again
