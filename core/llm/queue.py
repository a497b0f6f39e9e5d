"""One model, many customers: every call to the model waits its turn in one bounded queue and
runs on the model's own thread, so no request thread ever runs the model and the work in
flight is bounded (the model does one thing at a time anyway).

A full queue refuses the call at once with :class:`ModelBusyError` (an :class:`LLMError`, so
the message path escalates rather than hangs); ``depth`` says how many calls may wait, and
``wait_s`` how long a call may wait for its turn before it gives up the same way (a call the
model has started is seen through: llama.cpp cannot be stopped mid-reply, and its length is
bounded by the prompt's ``max_tokens``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TypeVar

from core.errors import LLMError
from core.llm.base import ChatMessage, ChatModel, Completion, TextSink

T = TypeVar("T")


class ModelBusyError(LLMError):
    """Too many calls are waiting for the model."""


class QueuedModel(ChatModel):
    def __init__(
        self,
        inner: ChatModel,
        *,
        depth: int,
        wait_s: float | None = None,
        concurrency: int = 1,
    ) -> None:
        """``concurrency``: calls run at once (1 for the embedded model, which does one thing at
        a time; more for an endpoint that batches, such as vLLM)."""
        self.inner = inner
        self.name = inner.name
        self._wait_s = wait_s
        self._jobs: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=depth)
        for n in range(concurrency):
            threading.Thread(target=self._serve, name=f"tether-model-{n}", daemon=True).start()

    @property
    def waiting(self) -> int:
        """Calls queued for the model, not counting the one it is running."""
        return self._jobs.qsize()

    def _serve(self) -> None:
        while True:
            self._jobs.get()()

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
            self._jobs.put_nowait(job)
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
