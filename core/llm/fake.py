"""A scriptable chat model for tests and offline demos: replies come from a queue or a function."""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable, Sequence

from core.errors import LLMError
from core.llm.base import ChatMessage, ChatModel, Completion, TextSink, normalise_options

Responder = Callable[[Sequence[ChatMessage]], str]


class FakeChatModel(ChatModel):
    """Answers with queued replies first, then with ``responder``; records every call.

    A queued ``Exception`` instance is raised instead of answered, to simulate an outage.
    Option probabilities come from the reply the same call would get: all the probability
    goes to the option its first word names, or, when the reply is a number between 0 and 1,
    that much to the first option and the rest to the others. A continuation is as likely as
    the share of its words that the context holds (a passage about the question's words makes
    the question likely); each scored pair is recorded in ``scored``.
    """

    name = "fake"

    def __init__(self, responder: Responder | None = None) -> None:
        self._queue: deque[str | Exception] = deque()
        self._responder = responder
        self.calls: list[list[ChatMessage]] = []
        self.scored: list[tuple[str, str]] = []

    def enqueue(self, *replies: str | Exception) -> FakeChatModel:
        self._queue.extend(replies)
        return self

    def option_probabilities(
        self, messages: Sequence[ChatMessage], options: Sequence[str]
    ) -> dict[str, float]:
        reply = self.complete(messages, max_tokens=1).text.strip()
        try:
            first = float(reply)
        except ValueError:
            word = reply.split()[0].strip(".,!:").lower() if reply else ""
            mass = {option: float(option.lower() == word) for option in options}
        else:
            rest = (1 - first) / max(len(options) - 1, 1)
            mass = {option: first if i == 0 else rest for i, option in enumerate(options)}
        return normalise_options(mass, self.name)

    def continuation_logprob(self, context: str, continuation: str) -> float:
        self.scored.append((context, continuation))
        held = set(_words(context))
        words = _words(continuation)
        share = sum(word in held for word in words) / max(len(words), 1)
        return math.log(0.05 + 0.95 * share)

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        json_mode: bool = False,
        on_text: TextSink | None = None,
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
        if on_text is not None:
            for piece in re.findall(r"\s*\S+", reply) or [reply]:
                on_text(piece)
        prompt_tokens = sum(len(m.content.split()) for m in messages)
        return Completion(
            text=reply,
            model=self.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(reply.split()),
        )


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())
