"""One model, many customers: every call to the model waits its turn in one bounded queue and
runs on the model's own thread, so no request thread ever runs the model and the work in
flight is bounded (the model does one thing at a time anyway).

A full queue refuses the call at once with :class:`ModelBusyError` (an :class:`LLMError`, so
the message path escalates rather than hangs); ``depth`` says how many calls may wait, and
``wait_s`` how long a call may wait for its turn before it gives up the same way (a call the
model has started is seen through: llama.cpp cannot be stopped mid-reply, and its length is
bounded by the prompt's ``max_tokens``).

The line is kept by message, not by call: a message makes several calls (condense, answer,
judge), and the calls made inside :func:`one_message` all wait at the place of the message's
first. With several customers at once, the first to ask is answered first, instead of every
message in flight interleaving its calls with the others' and all of them finishing late.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from core.errors import LLMError
from core.llm.base import ChatMessage, ChatModel, Completion, TextSink

T = TypeVar("T")


# The place in line of the message being answered (a monotonic time), when there is one.
_PLACE: ContextVar[float | None] = ContextVar("tether_model_place", default=None)


class ModelBusyError(LLMError):
    """Too many calls are waiting for the model."""


@contextmanager
def one_message() -> Iterator[None]:
    """The model calls made inside wait in line at the place of the first: where the message
    stood when it began (an enclosing one's place, when nested)."""
    if _PLACE.get() is not None:
        yield
        return
    token = _PLACE.set(time.monotonic())
    try:
        yield
    finally:
        _PLACE.reset(token)


class QueuedModel(ChatModel):
    def __init__(
        self,
        inner: ChatModel,
        *,
        depth: int,
        wait_s: float | None = None,
        concurrency: int = 1,
        by_message: bool = True,
    ) -> None:
        """``concurrency``: calls run at once (1 for the embedded model, which does one thing at
        a time; more for an endpoint that batches, such as vLLM). ``by_message``: a call made
        inside :func:`one_message` waits at its message's place (else every call in the order
        made)."""
        self.inner = inner
        self._by_message = by_message
        self.name = inner.name
        self._wait_s = wait_s
        # (place, arrival, job): the earliest message's calls first, each in the order made.
        self._jobs: queue.PriorityQueue[tuple[float, int, Callable[[], None]]] = (
            queue.PriorityQueue(maxsize=depth)
        )
        self._arrivals = itertools.count()
        for n in range(concurrency):
            threading.Thread(target=self._serve, name=f"tether-model-{n}", daemon=True).start()

    @property
    def waiting(self) -> int:
        """Calls queued for the model, not counting the one it is running."""
        return self._jobs.qsize()

    def _serve(self) -> None:
        while True:
            _, _, job = self._jobs.get()
            job()

    def _place(self) -> float:
        """A call's place in line: its message's, or now (outside any message, or by call)."""
        place = _PLACE.get() if self._by_message else None
        return time.monotonic() if place is None else place

    def _call(self, work: Callable[[], T]) -> T:
        result: Future[T] = Future()

        def job() -> None:
            if not result.set_running_or_notify_cancel():
                return
            try:
                result.set_result(work())
            except BaseException as exc:  # handed to the caller, whatever it is
                result.set_exception(exc)

        try:
            self._jobs.put_nowait((self._place(), next(self._arrivals), job))
        except queue.Full as exc:
            raise ModelBusyError(
                f"the model is busy: {self._jobs.maxsize} calls are already waiting"
            ) from exc
        try:
            return result.result(timeout=self._wait_s)
        except TimeoutError:
            if result.cancel():
                raise ModelBusyError(
                    f"the model is busy: this call waited {self._wait_s:g} s for its turn"
                ) from None
            return result.result()

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        json_mode: bool = False,
        on_text: TextSink | None = None,
    ) -> Completion:
        return self._call(
            lambda: self.inner.complete(
                messages, max_tokens=max_tokens, json_mode=json_mode, on_text=on_text
            )
        )

    def option_probabilities(
        self, messages: Sequence[ChatMessage], options: Sequence[str]
    ) -> dict[str, float]:
        return self._call(lambda: self.inner.option_probabilities(messages, options))

    def continuation_logprob(self, context: str, continuation: str) -> float:
        return self._call(lambda: self.inner.continuation_logprob(context, continuation))

    def is_ready(self) -> bool:
        return self.inner.is_ready()
