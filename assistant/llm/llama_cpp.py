"""The embedded model: a GGUF file run in-process by llama.cpp (no server)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ConfigurationError, LLMError
from assistant.llm.base import ChatMessage, ChatModel, Completion

if TYPE_CHECKING:
    from llama_cpp import Llama


class LlamaCppModel(ChatModel):
    """In-process llama.cpp. One call at a time: a llama.cpp context is not thread-safe."""

    def __init__(self, llama: Llama, *, name: str, seed: int = 0) -> None:
        self._llama = llama
        self._lock = threading.Lock()
        self._seed = seed
        self.name = name

    @classmethod
    def load(cls, path: Path, *, n_ctx: int, n_threads: int, seed: int = 0) -> LlamaCppModel:
        if not path.is_file():
            raise ConfigurationError(
                f"model file {path} not found: run scripts/setup.sh, or set TETHER_LLM_MODEL_PATH"
            )
        from llama_cpp import Llama

        llama = Llama(
            model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, seed=seed, verbose=False
        )
        return cls(llama, name=path.stem, seed=seed)

    def close(self) -> None:
        """Free the model now rather than at interpreter exit."""
        with self._lock:
            self._llama.close()

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
            with self._lock:
                out: Any = self._llama.create_chat_completion(
                    messages=[m.model_dump() for m in messages],  # type: ignore[misc]
                    temperature=0.0,
                    seed=self._seed,
                    max_tokens=max_tokens,
                    **kwargs,
                )
        except Exception as exc:  # llama.cpp raises bare ValueError/RuntimeError
            raise LLMError(f"llama.cpp failed: {exc}") from exc
        usage = out.get("usage") or {}
        return Completion(
            text=out["choices"][0]["message"]["content"] or "",
            model=self.name,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
        )
