"""The chat-model seam: one abstract method, ``complete``."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

Role = Literal["system", "user", "assistant"]


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
    ) -> Completion:
        """Return the model's reply to ``messages`` (temperature 0, fixed seed)."""

    def is_ready(self) -> bool:
        """Whether the model is loaded or its endpoint is reachable."""
        return True
