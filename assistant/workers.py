"""The threads that answer messages, apart from the threads that serve requests.

A request hands its message to this pool and waits without holding a request thread (the JSON
call awaits the result; a streamed call reads its events as they come). A streamed call whose
client goes away does not stop its message: the job runs on, and the reply is stored.

Backpressure: at most ``capacity`` messages are in the pool at once (being answered or waiting
for a worker). One more is refused before anything is stored (:class:`BusyError`, which the
API answers with 503 and ``Retry-After``): a customer told to retry in a few seconds is better
served than one whose reply comes minutes late, and nothing they sent is lost, since nothing
was taken.
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from assistant.chat import ChatService, MessageOutcome
from assistant.pipeline.streaming import EventSink
from core.errors import ServiceError

# Seconds a message took, over the last ones answered: what Retry-After is estimated from.
_RECENT = 20
_FIRST_GUESS_S = 5.0


class BusyError(ServiceError):
    """Every place for a message is taken; ``retry_after`` says when to try again (seconds)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MessageWorkers:
    def __init__(self, chat: ChatService, *, workers: int, capacity: int | None = None) -> None:
        self.chat = chat
        self.workers = workers
        self.capacity = capacity or workers * 2
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tether-message")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._took: deque[float] = deque(maxlen=_RECENT)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the messages ahead, shared by the workers."""
        typical = sum(self._took) / len(self._took) if self._took else _FIRST_GUESS_S
        return max(1, round(typical * self._in_flight / self.workers))

    def submit(
        self, conversation_id: str, text: str, events: EventSink | None = None
    ) -> Future[MessageOutcome]:
        with self._lock:
            if self._in_flight >= self.capacity:
                raise self._busy(text)
            self._in_flight += 1
        # The job keeps the request's context (its trace id goes into the logs and the record).
        context = contextvars.copy_context()
        job = self._pool.submit(context.run, self._answer, conversation_id, text, events)
        job.add_done_callback(self._release)
        return job

    def _busy(self, text: str) -> BusyError:
        """The refusal, in the customer's language (the profile's busy message)."""
        assistant = self.chat.assistant
        wait = self.retry_after()
        messages = assistant.messages(assistant.language_of(text))
        return BusyError(messages.busy_text(in_flight=self._in_flight, retry_after=wait), wait)

    def _answer(self, conversation_id: str, text: str, events: EventSink | None) -> MessageOutcome:
        outcome = self.chat.post_message(conversation_id, text, events)
        total = outcome.reply.latency_ms.get("total")
        if total is not None:
            self._took.append(total / 1000)
        return outcome

    def _release(self, _: Future[MessageOutcome]) -> None:
        with self._lock:
            self._in_flight -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
