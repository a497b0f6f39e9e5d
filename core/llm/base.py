"""The chat-model seam: one abstract method, ``complete``."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel

from core.errors import LLMError

Role = Literal["system", "user", "assistant"]
# Receives a completion's text in pieces, as they are generated.
TextSink = Callable[[str], None]


class ChatMessage(BaseModel):
    role: Role
    content: str


class Completion(BaseModel):
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


def first_json_object(text: str) -> object:
    """The first JSON value that starts at a ``{`` in a model's reply, or None."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError:
        return None
    return value


class ChatModel(ABC):
    """A chat model. Adapters translate their backend's failures into :class:`LLMError`."""

    name: str = "chat-model"

    @abstractmethod
    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        json_mode: bool = False,
        on_text: TextSink | None = None,
    ) -> Completion:
        """Return the model's reply to ``messages`` (temperature 0, fixed seed).

        ``on_text``, when given, receives the reply in pieces as they are generated (joined,
        they are the reply's text); a backend that cannot stream gives it all in one piece."""

    @abstractmethod
    def option_probabilities(
        self, messages: Sequence[ChatMessage], options: Sequence[str]
    ) -> dict[str, float]:
        """How likely the reply is to start with each one-word option, normalised over them.

        A judge that needs a score rather than a word ("Yes" or "No") reads it from here: the
        model's own next-token probabilities, with no text generated. Raises :class:`LLMError`
        when the model gives none of the options any probability.
        """

    def continuation_logprob(self, context: str, continuation: str) -> float:
        """The log-probability the model gives ``continuation`` right after ``context`` (plain
        text, no chat template), summed over the continuation's tokens.

        A reranker reads how likely a passage makes the customer's question from here. Raises
        :class:`LLMError` when the backend cannot score text (this default: an endpoint that
        gives no prompt logprobs), so the caller keeps the order it had."""
        raise LLMError(f"{self.name} cannot score a continuation")

    def is_ready(self) -> bool:
        """Whether the model is loaded or its endpoint is reachable."""
        return True


def normalise_options(mass: dict[str, float], model: str) -> dict[str, float]:
    """``mass`` (probability per option) scaled to sum to 1; LLMError when it is all zero."""
    total = sum(mass.values())
    if total <= 0:
        raise LLMError(f"{model} gave none of the options {sorted(mass)} any probability")
    return {option: value / total for option, value in mass.items()}
