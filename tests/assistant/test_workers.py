from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from assistant.chat import ChatService
from assistant.desk import AgentDesk
from assistant.pipeline.assistant import Assistant
from assistant.storage import Database
from assistant.workers import BusyError, MessageWorkers
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel


def test_a_full_pool_refuses_before_anything_is_stored_and_says_when_to_retry(
    make_assistant: Callable[..., Assistant], database: Database, desk: AgentDesk
) -> None:
    release = threading.Event()

    def blocked(_: Sequence[ChatMessage]) -> str:
        release.wait(5)
        return "Each Instant Pay cash-out costs $0.85 [pay-002]."

    chat = ChatService(
        database=database,
        desk=desk,
        assistant=make_assistant(FakeChatModel(blocked), answer_prompt="answer@6"),
    )
    workers = MessageWorkers(chat, workers=1, capacity=2)
    taken = [database.conversations.create().id for _ in range(3)]
    jobs = [workers.submit(cid, "How much does Instant Pay cost?") for cid in taken[:2]]
    with pytest.raises(BusyError) as refused:
        workers.submit(taken[2], "How much does Instant Pay cost?")
    assert refused.value.retry_after >= 1
    assert database.conversations.get(taken[2]).messages == []  # nothing was taken
    release.set()
    assert all(job.result(10).reply.answered for job in jobs)
    assert workers.in_flight == 0
    workers.submit(taken[2], "How much does Instant Pay cost?").result(10)  # room again
    workers.close()
