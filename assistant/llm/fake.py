"""A scriptable chat model for tests and offline demos: replies come from a queue or a function."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from assistant.errors import LLMError
from assistant.llm.base import ChatMessage, ChatModel, Completion

Responder = Callable[[Sequence[ChatMessage]], str]


class FakeChatModel(ChatModel):
    """Answers with queued replies first, then with ``responder``; records every call.

    A queued ``Exception`` instance is raised instead of answered, to simulate an outage.
    """

    name = "fake"

    def __init__(self, responder: Responder | None = None) -> None:
        self._queue: deque[str | Exception] = deque()
        self._responder = responder
        self.calls: list[list[ChatMessage]] = []

    def enqueue(self, *replies: str | Exception) -> FakeChatModel:
        self._queue.extend(replies)
        return self

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        json_mode: bool = False,
    ) -> Completion:
        self.calls.append(list(messages))
        if self._queue:
            reply = self._queue.popleft()
        elif self._responder is not None:
            reply = self._responder(messages)
        else:
            raise LLMError("fake model has no reply queued")
        if isinstance(reply, Exception):
            raise reply
        prompt_tokens = sum(len(m.content.split()) for m in messages)
        return Completion(
            text=reply,
            model=self.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(reply.split()),
        )
