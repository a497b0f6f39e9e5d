"""A response cache in front of any chat model, so rerunning an unchanged configuration calls no
model and reproduces the same outputs.

Keyed by the model's name, a namespace (a repeat number, say), the request (every message,
so the prompt's version and text are in it), ``max_tokens`` and ``json_mode``. Stored in one
SQLite file; failures of the inner model are not cached.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from core.llm.base import ChatMessage, ChatModel, Completion, TextSink


class _CacheFile:
    """The SQLite file, and the hits and misses of every namespace that reads it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.hits = 0
        self.misses = 0
        with self.lock, self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, completion TEXT)"
            )


class CachingChatModel(ChatModel):
    def __init__(self, inner: ChatModel, path: Path | _CacheFile, *, namespace: str = "") -> None:
        self.inner = inner
        self.name = inner.name
        self.namespace = namespace
        self._file = path if isinstance(path, _CacheFile) else _CacheFile(path)

    def counts(self) -> dict[str, int]:
        """Responses served from the file (``cache_hits``) and given by the inner model
        (``model_calls``), over every namespace of the file."""
        return {"cache_hits": self._file.hits, "model_calls": self._file.misses}

    def key(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        json_mode: bool,
        options: Sequence[str] = (),
    ) -> str:
        request: dict[str, object] = {
            "model": self.inner.name,
            "namespace": self.namespace,
            "messages": [m.model_dump() for m in messages],
            "max_tokens": max_tokens,
            "json_mode": json_mode,
        }
        if options:  # a scoring request, not a completion
            request["options"] = list(options)
        return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        json_mode: bool = False,
        on_text: TextSink | None = None,
    ) -> Completion:
        key = self.key(messages, max_tokens=max_tokens, json_mode=json_mode)
        stored = self._get(key)
        if stored is not None:
            completion = Completion.model_validate_json(stored)
            if on_text is not None:
                on_text(completion.text)
            return completion
        completion = self.inner.complete(
            messages, max_tokens=max_tokens, json_mode=json_mode, on_text=on_text
        )
        self._put(key, completion.model_dump_json())
        return completion

    def option_probabilities(
        self, messages: Sequence[ChatMessage], options: Sequence[str]
    ) -> dict[str, float]:
        key = self.key(messages, max_tokens=0, json_mode=False, options=options)
        stored = self._get(key)
        if stored is not None:
            return {str(k): float(v) for k, v in json.loads(stored).items()}
        probabilities = self.inner.option_probabilities(messages, options)
        self._put(key, json.dumps(probabilities))
        return probabilities

    def continuation_logprob(self, context: str, continuation: str) -> float:
        scored = [
            ChatMessage(role="user", content=context),
            ChatMessage(role="assistant", content=continuation),
        ]
        key = self.key(scored, max_tokens=0, json_mode=False, options=("logprob",))
        stored = self._get(key)
        if stored is not None:
            return float(stored)
        logprob = self.inner.continuation_logprob(context, continuation)
        self._put(key, repr(logprob))
        return logprob

    def _get(self, key: str) -> str | None:
        """The stored response under ``key`` (counted as a hit), or None."""
        with self._file.lock:
            row = self._file.db.execute(
                "SELECT completion FROM completions WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            self._file.hits += 1
        return str(row[0])

    def _put(self, key: str, value: str) -> None:
        """Store a response the inner model just gave (counted as a miss)."""
        with self._file.lock, self._file.db:
            self._file.misses += 1
            self._file.db.execute("INSERT OR REPLACE INTO completions VALUES (?, ?)", (key, value))

    def with_namespace(self, namespace: str) -> CachingChatModel:
        """The same cache file and model, another key space (each repeat of a run has its own);
        hits and misses are counted for the file, whichever namespace made them."""
        return CachingChatModel(self.inner, self._file, namespace=namespace)

    def is_ready(self) -> bool:
        return self.inner.is_ready()

    def close(self) -> None:
        with self._file.lock:
            self._file.db.close()


class LazyModel(ChatModel):
    """A model loaded on its first call: a fully cached run never loads it at all."""

    def __init__(self, name: str, load: Callable[[], ChatModel]) -> None:
        self.name = name
        self._load = load
        self._model: ChatModel | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _get(self) -> ChatModel:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        json_mode: bool = False,
        on_text: TextSink | None = None,
    ) -> Completion:
        return self._get().complete(
            messages, max_tokens=max_tokens, json_mode=json_mode, on_text=on_text
        )

    def option_probabilities(
        self, messages: Sequence[ChatMessage], options: Sequence[str]
    ) -> dict[str, float]:
        return self._get().option_probabilities(messages, options)

    def continuation_logprob(self, context: str, continuation: str) -> float:
        return self._get().continuation_logprob(context, continuation)

    def is_ready(self) -> bool:
        return self._model is None or self._model.is_ready()
