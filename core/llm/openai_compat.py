"""Any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's server) via the ``openai`` client."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from core.errors import LLMError
from core.llm.base import ChatMessage, ChatModel, Completion, TextSink, normalise_options

_TOP_LOGPROBS = 20


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

    def _create(self, messages: Sequence[ChatMessage], **options: Any) -> ChatCompletion:
        """One chat completion at temperature 0 with the seed; endpoint failures are LLMErrors."""
        try:
            return self._client.chat.completions.create(
                model=self.name,
                messages=[m.model_dump() for m in messages],  # type: ignore[misc]
                temperature=0.0,
                seed=self._seed,
                **options,
            )
        except openai.OpenAIError as exc:
            raise LLMError(f"OpenAI-compatible endpoint failed: {exc}") from exc

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        json_mode: bool = False,
        on_text: TextSink | None = None,
    ) -> Completion:
        kwargs: dict[str, Any] = {}
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        if on_text is not None:
            return self._streamed(messages, on_text, max_tokens=max_tokens, **kwargs)
        out = self._create(messages, max_tokens=max_tokens, **kwargs)
        usage = out.usage
        return Completion(
            text=out.choices[0].message.content or "",
            model=out.model or self.name,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    def _streamed(
        self, messages: Sequence[ChatMessage], on_text: TextSink, **options: Any
    ) -> Completion:
        pieces: list[str] = []
        usage = None
        try:
            stream = self._client.chat.completions.create(  # type: ignore[call-overload]
                model=self.name,
                messages=[m.model_dump() for m in messages],
                temperature=0.0,
                seed=self._seed,
                stream=True,
                stream_options={"include_usage": True},
                **options,
            )
            for chunk in stream:
                usage = chunk.usage or usage
                piece = chunk.choices[0].delta.content if chunk.choices else None
                if piece:
                    pieces.append(piece)
                    on_text(piece)
        except openai.OpenAIError as exc:
            raise LLMError(f"OpenAI-compatible endpoint failed: {exc}") from exc
        return Completion(
            text="".join(pieces),
            model=self.name,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else len(pieces),
        )

    def option_probabilities(
        self, messages: Sequence[ChatMessage], options: Sequence[str]
    ) -> dict[str, float]:
        """From the first token's top log-probabilities (the endpoint must support logprobs)."""
        out = self._create(messages, max_tokens=1, logprobs=True, top_logprobs=_TOP_LOGPROBS)
        logprobs = out.choices[0].logprobs
        if logprobs is None or not logprobs.content:
            raise LLMError(f"{self.name} returned no logprobs: the endpoint must support them")
        top = logprobs.content[0].top_logprobs
        mass = {
            option: sum(
                math.exp(t.logprob) for t in top if t.token.strip().lower() == option.lower()
            )
            for option in options
        }
        return normalise_options(mass, self.name)

    def is_ready(self) -> bool:
        try:
            self._client.models.list()
        except openai.OpenAIError:
            return False
        return True
