"""Rate limits, kept in the process: failed authentications per client address and per key
prefix (so nobody can guess keys, from one address or from many at one key), and messages per
conversation (each message runs the model). Beyond a limit the answer is 429 with
``Retry-After``.

A sliding window of timestamps per key, behind one lock (the sync routes run on a thread pool).
Several server processes each keep their own counts: put a shared limiter in front of them if
you run more than one.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from assistant.settings import Settings
from core.errors import TetherError

# The presented key's first characters: "tth_" and six more, the prefix `tether keys list` shows.
PREFIX_CHARS = 10


class RateLimitedError(TetherError):
    """Too many requests of one kind; ``retry_after`` seconds until the next one is allowed."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


class SlidingWindow:
    """At most ``limit`` events per key in any ``window_s`` seconds (``limit`` 0: no limit)."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self._max_keys:
                self._forget_idle(now)
            events = self._events[key] = deque()
        while events and events[0] <= now - self.window_s:
            events.popleft()
        return events

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window_s]:
            del self._events[key]
        if len(self._events) >= self._max_keys:  # still full: the oldest activity goes first
            for key in sorted(self._events, key=lambda k: self._events[k][-1])[
                : len(self._events) // 2
            ]:
                del self._events[key]

    def retry_after(self, key: str) -> float | None:
        """Seconds until ``key`` may have another event; None when it may now."""
        if self.limit <= 0:
            return None
        with self._lock:
            now = self._clock()
            events = self._recent(key, now)
            if len(events) < self.limit:
                return None
            return events[0] + self.window_s - now

    def hit(self, key: str) -> None:
        """Count one event of ``key``."""
        if self.limit <= 0:
            return
        with self._lock:
            now = self._clock()
            self._recent(key, now).append(now)

    def take(self, key: str) -> float | None:
        """Count one event if allowed (None); otherwise the seconds to wait, counting nothing."""
        if self.limit <= 0:
            return None
        with self._lock:
            now = self._clock()
            events = self._recent(key, now)
            if len(events) >= self.limit:
                return events[0] + self.window_s - now
            events.append(now)
            return None


class RateLimits:
    """The app's limits, from settings (one set per app)."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        window = settings.auth_failure_window_s
        self.auth_by_address = SlidingWindow(
            settings.auth_failures_per_address, window, clock=clock
        )
        self.auth_by_prefix = SlidingWindow(settings.auth_failures_per_prefix, window, clock=clock)
        self.messages = SlidingWindow(
            settings.messages_per_conversation, settings.message_window_s, clock=clock
        )

    def before_authentication(self, address: str, secret: str) -> None:
        """Refuse (429) an attempt from an address, or at a key prefix, that failed too often:
        before the key is checked, so that a right guess looks like a wrong one."""
        for window, key, what in (
            (self.auth_by_address, address, "from this address"),
            (self.auth_by_prefix, secret[:PREFIX_CHARS], "with this key prefix"),
        ):
            wait = window.retry_after(key)
            if wait is not None:
                raise RateLimitedError(
                    f"too many failed authentications {what}; retry in {math.ceil(wait)} s",
                    wait,
                )

    def authentication_failed(self, address: str, secret: str) -> None:
        self.auth_by_address.hit(address)
        self.auth_by_prefix.hit(secret[:PREFIX_CHARS])

    def message(self, conversation_id: str) -> None:
        """Count a message in its conversation, or refuse it (429) beyond the limit."""
        wait = self.messages.take(conversation_id)
        if wait is not None:
            raise RateLimitedError(
                f"too many messages in this conversation; retry in {math.ceil(wait)} s", wait
            )
