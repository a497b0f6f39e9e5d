"""Any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's server) via the ``openai`` client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import openai

from assistant.errors import LLMError
from assistant.llm.base import ChatMessage, ChatModel, Completion


class OpenAICompatModel(ChatModel):
    def __init__(self, client: openai.OpenAI, *, model: str, seed: int = 0) -> None:
        self._client = client
        self._seed = seed
        self.name = model

    @classmethod
    def connect(
        cls, *, base_url: str | None, api_key: str, model: str, timeout: float, seed: int = 0
    ) -> OpenAICompatModel:
        client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=1)
        return cls(client, model=model, seed=seed)

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        json_mode: bool = False,
    ) -> Completion:
        kwargs: dict[str, Any] = {}
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        try:
            out = self._client.chat.completions.create(
                model=self.name,
                messages=[m.model_dump() for m in messages],  # type: ignore[misc]
                temperature=0.0,
                seed=self._seed,
                max_tokens=max_tokens,
                **kwargs,
            )
        except openai.OpenAIError as exc:
            raise LLMError(f"OpenAI-compatible endpoint failed: {exc}") from exc
        usage = out.usage
        return Completion(
            text=out.choices[0].message.content or "",
            model=out.model or self.name,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    def is_ready(self) -> bool:
        try:
            self._client.models.list()
        except openai.OpenAIError:
            return False
        return True
