from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from core.llm.queue import ModelBusyError, QueuedModel

ASK = [ChatMessage(role="user", content="hi")]


def test_calls_run_on_the_model_thread_one_at_a_time_and_stream_through() -> None:
    running: list[str] = []
    overlap: list[bool] = []

    def reply(_: Sequence[ChatMessage]) -> str:
        overlap.append(bool(running))
        running.append(threading.current_thread().name)
        time.sleep(0.02)
        running.pop()
        return "one two"

    queued = QueuedModel(FakeChatModel(reply), depth=8)
    pieces: list[str] = []
    threads = [threading.Thread(target=queued.complete, args=(ASK,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert queued.complete(ASK, on_text=pieces.append).text == "one two"
    for thread in threads:
        thread.join()
    assert overlap == [False] * 5  # never two at once
    assert "".join(pieces) == "one two"
    assert queued.option_probabilities(ASK, ("one", "two"))["one"] == 1.0
    assert queued.continuation_logprob("Passage: one two", " one") == 0.0


def test_a_full_queue_refuses_at_once_and_failures_reach_the_caller() -> None:
    release = threading.Event()

    def blocked(_: Sequence[ChatMessage]) -> str:
        release.wait(5)
        return "done"

    queued = QueuedModel(FakeChatModel(blocked), depth=1)
    first = threading.Thread(target=queued.complete, args=(ASK,))
    first.start()
    while queued.waiting:  # the model took the first call
        time.sleep(0.01)
    second = threading.Thread(target=queued.complete, args=(ASK,))
    second.start()
    while not queued.waiting:  # the second waits in the queue
        time.sleep(0.01)
    with pytest.raises(ModelBusyError, match="1 calls are already waiting"):
        queued.complete(ASK)
    release.set()
    first.join()
    second.join()
    failing = QueuedModel(FakeChatModel(), depth=2)  # nothing queued: the fake raises
    with pytest.raises(Exception, match="no reply queued"):
        failing.complete(ASK)


def test_a_call_that_waits_too_long_for_its_turn_gives_up_and_a_running_one_finishes() -> None:
    release = threading.Event()

    def slow(_: Sequence[ChatMessage]) -> str:
        release.wait(5)
        return "done"

    queued = QueuedModel(FakeChatModel(slow), depth=4, wait_s=0.1)
    running: list[str] = []
    first = threading.Thread(target=lambda: running.append(queued.complete(ASK).text))
    first.start()
    while queued.waiting:
        time.sleep(0.01)
    with pytest.raises(ModelBusyError, match=r"waited 0\.1 s"):
        queued.complete(ASK)  # queued behind the first, and cancelled before it ran
    release.set()
    first.join()
    assert running == ["done"]  # the one the model had started was seen through
