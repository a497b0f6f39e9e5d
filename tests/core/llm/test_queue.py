from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from core.llm.queue import ModelBusyError, QueuedModel, one_message

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


@pytest.mark.parametrize(
    ("by_message", "expected"),
    [(True, ["hold", "earlier", "later"]), (False, ["hold", "later", "earlier"])],
)
def test_a_call_of_the_message_that_began_first_goes_ahead_of_later_messages_calls(
    by_message: bool, expected: list[str]
) -> None:
    """By message, the earlier message's call goes first though it was made second; by call,
    the calls go in the order made."""
    release = threading.Event()
    order: list[str] = []

    def reply(messages: Sequence[ChatMessage]) -> str:
        if messages[0].content == "hold":
            release.wait(5)
        order.append(messages[0].content)
        return "ok"

    queued = QueuedModel(FakeChatModel(reply), depth=8, by_message=by_message)
    holding = threading.Thread(target=queued.complete, args=([_say("hold")],))
    holding.start()
    while queued.waiting:  # the model is busy with the held call
        time.sleep(0.01)
    began, go_on = threading.Event(), threading.Event()

    def earlier() -> None:
        with one_message():
            began.set()
            go_on.wait(5)  # its first call comes after the later message's
            queued.complete([_say("earlier")])

    def later() -> None:
        began.wait(5)
        with one_message():
            queued.complete([_say("later")])

    threads = [threading.Thread(target=earlier), threading.Thread(target=later)]
    for thread in threads:
        thread.start()
    while not queued.waiting:  # the later message's call waits
        time.sleep(0.01)
    go_on.set()
    while queued.waiting < 2:
        time.sleep(0.01)
    release.set()
    for thread in (holding, *threads):
        thread.join()
    assert order == expected


def _say(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)
