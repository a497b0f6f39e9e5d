"""The embedded model: a GGUF file run in-process by llama.cpp (no server)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ConfigurationError, LLMError
from core.llm.base import ChatMessage, ChatModel, Completion, TextSink, normalise_options
from core.llm.prefixes import Prefixes

if TYPE_CHECKING:
    from llama_cpp import Llama


class LlamaCppModel(ChatModel):
    """In-process llama.cpp. One call at a time: a llama.cpp context is not thread-safe.

    With ``prefix_cache``, the model's state after each call is kept (core/llm/prefixes.py), and a
    call whose prompt starts like an earlier one's (the same system prompt) resumes from that
    state: only the rest of the prompt is read again."""

    def __init__(
        self, llama: Llama, *, name: str, seed: int = 0, prefix_cache: bool = False
    ) -> None:
        self._llama = llama
        self._lock = threading.Lock()
        self._seed = seed
        self.name = name
        self.prefix_cache = False
        self.use_prefix_cache(prefix_cache)

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        n_ctx: int,
        n_threads: int,
        seed: int = 0,
        prefix_cache: bool = False,
        n_batch: int = 512,
        prompt_lookup: int = 0,
        flash_attn: bool = False,
    ) -> LlamaCppModel:
        """``prompt_lookup``: tokens to draft by prompt-lookup decoding (0: off), which guesses
        the next tokens from the prompt (answers copy from the passages) and checks them in one
        batch."""
        if not path.is_file():
            raise ConfigurationError(
                f"model file {path} not found: run scripts/setup.sh, or set TETHER_LLM_MODEL_PATH"
            )
        from llama_cpp import Llama
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

        draft = LlamaPromptLookupDecoding(num_pred_tokens=prompt_lookup) if prompt_lookup else None
        llama = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_batch=n_batch,
            seed=seed,
            draft_model=draft,
            flash_attn=flash_attn,
            verbose=False,
        )
        return cls(llama, name=path.stem, seed=seed, prefix_cache=prefix_cache)

    def use_prefix_cache(self, on: bool) -> None:
        """Keep (or stop keeping) states for prefix reuse; the states kept so far are dropped."""
        with self._lock:
            self.prefix_cache = on
            self._prefixes = Prefixes()

    def speed(self, *, prompt_tokens: int, decode_tokens: int) -> dict[str, float]:
        """The machine's speed for this model: prompt tokens read and tokens generated per
        second (the context is cleared first)."""
        import time

        unit = self._llama.tokenize(b"The quick brown fox jumps over the lazy dog. ", add_bos=False)
        tokens = (unit * (prompt_tokens // len(unit) + 1))[:prompt_tokens]
        with self._lock:
            self._llama.reset()  # type: ignore[no-untyped-call]
            start = time.perf_counter()
            self._llama.eval(tokens)
            read = time.perf_counter() - start
            start = time.perf_counter()
            out: Any = self._llama.create_completion(
                tokens, max_tokens=decode_tokens, temperature=0.0, seed=self._seed
            )
            written = time.perf_counter() - start
            self._llama.reset()  # type: ignore[no-untyped-call]
        generated = int((out.get("usage") or {}).get("completion_tokens", decode_tokens))
        return {
            "prefill_tokens_per_s": round(len(tokens) / read, 1),
            "decode_tokens_per_s": round(generated / written, 1),
        }

    def _tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        """The prompt's tokens, as the model's own chat template writes them."""
        prompt = self._formatter(messages=[m.model_dump() for m in messages]).prompt
        return list(self._llama.tokenize(prompt.encode(), add_bos=False, special=True))

    def _read(self, tokens: list[int]) -> None:
        """Bring the context to the end of ``tokens``, reading only what it does not already
        hold (with the prefix cache: or a saved state holds); the last token is always read
        again, for its logits. The caller holds the lock."""
        llama = self._llama
        if self.prefix_cache:
            held = self._prefixes.resume(llama, tokens)
        else:
            llama.reset()  # type: ignore[no-untyped-call]
            held = 0
        llama.n_tokens = min(held, len(tokens) - 1)
        llama.eval(tokens[llama.n_tokens :])
        if self.prefix_cache:
            self._prefixes.keep(llama)

    @cached_property
    def _formatter(self) -> Any:
        """The model's own chat template (from the GGUF), as create_chat_completion uses it."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise LLMError(f"{self.name} has no chat template to score options with")

        def text(token: int) -> str:
            if token < 0:
                return ""
            return self._llama.detokenize([token], special=True).decode("utf-8", "replace")

        return Jinja2ChatFormatter(
            template=template,
            eos_token=text(self._llama.token_eos()),
            bos_token=text(self._llama.token_bos()),
        )

    def _option_tokens(self, option: str) -> set[int]:
        """The first token of each way the reply could start with ``option``."""
        variants = {option, option.lower(), option.capitalize(), option.upper()}
        variants |= {f" {variant}" for variant in variants}
        tokens = (self._llama.tokenize(v.encode(), add_bos=False, special=False) for v in variants)
        return {found[0] for found in tokens if found}

    def option_probabilities(
        self, messages: Sequence[ChatMessage], options: Sequence[str]
    ) -> dict[str, float]:
        import numpy as np

        try:
            tokens = self._tokens(messages)
            with self._lock:
                self._read(tokens)
                logits = self._last_logits()
        except LLMError:
            raise
        except Exception as exc:  # llama.cpp raises bare ValueError/RuntimeError
            raise LLMError(f"llama.cpp failed: {exc}") from exc
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        mass = {o: float(sum(probabilities[t] for t in self._option_tokens(o))) for o in options}
        return normalise_options(mass, self.name)

    def continuation_logprob(self, context: str, continuation: str) -> float:
        import numpy as np
        from scipy.special import logsumexp

        llama = self._llama
        head = list(llama.tokenize(context.encode(), add_bos=False, special=False))
        tail = list(llama.tokenize(continuation.encode(), add_bos=False, special=False))
        if not head or not tail:
            raise LLMError("a continuation is scored on a context and a continuation, both given")
        try:
            with self._lock:
                self._read(head)
                rows = [self._last_logits(), *self._batch_logits(tail[:-1], len(head))]
                llama.n_tokens = len(head)  # the continuation is not kept in the context
        except LLMError:
            raise
        except Exception as exc:  # llama.cpp raises bare ValueError/RuntimeError
            raise LLMError(f"llama.cpp failed: {exc}") from exc
        logits = np.stack(rows)
        norm = logsumexp(logits, axis=1)
        return float(sum(logits[i, t] - norm[i] for i, t in enumerate(tail)))

    def _last_logits(self) -> Any:
        """The logits after the last token read (the caller holds the lock)."""
        return self._logits_at(-1)

    def _logits_at(self, i: int) -> Any:
        import llama_cpp
        import numpy as np

        return np.ctypeslib.as_array(
            llama_cpp.llama_get_logits_ith(self._llama.ctx, i), shape=(self._llama.n_vocab(),)
        ).astype(np.float64)

    def _batch_logits(self, tokens: list[int], n_past: int) -> list[Any]:
        """Read ``tokens`` after the first ``n_past`` in one batch, keeping the logits at every
        position (a plain read keeps only the last's); the caller holds the lock."""
        if not tokens:
            return []
        llama = self._llama
        if len(tokens) > llama.n_batch or n_past + len(tokens) > llama.n_ctx():
            raise LLMError("the continuation is longer than the model reads in one batch")
        llama._batch.set_batch(batch=tokens, n_past=n_past, logits_all=True)
        llama._ctx.decode(llama._batch)
        return [self._logits_at(i) for i in range(len(tokens))]

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
        on_text: TextSink | None = None,
    ) -> Completion:
        kwargs: dict[str, Any] = {}
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        try:
            tokens = self._tokens(messages) if self.prefix_cache else []
            with self._lock:
                if tokens:
                    self._prefixes.resume(self._llama, tokens)
                out: Any = self._llama.create_chat_completion(
                    messages=[m.model_dump() for m in messages],  # type: ignore[misc]
                    temperature=0.0,
                    seed=self._seed,
                    max_tokens=max_tokens,
                    stream=on_text is not None,
                    **kwargs,
                )
                if on_text is not None:
                    out = self._streamed(out, on_text)
                if self.prefix_cache:
                    self._prefixes.keep(self._llama)
                if isinstance(out, Completion):
                    return out
        except LLMError:
            raise
        except Exception as exc:  # llama.cpp raises bare ValueError/RuntimeError
            raise LLMError(f"llama.cpp failed: {exc}") from exc
        usage = out.get("usage") or {}
        return Completion(
            text=out["choices"][0]["message"]["content"] or "",
            model=self.name,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
        )

    def _streamed(self, chunks: Any, on_text: TextSink) -> Completion:
        """Hand each generated piece on as it comes (the caller holds the lock)."""
        pieces: list[str] = []
        for chunk in chunks:
            piece = chunk["choices"][0]["delta"].get("content") or ""
            if piece:
                pieces.append(piece)
                on_text(piece)
        # One piece per generated token; the context holds the prompt and those tokens.
        return Completion(
            text="".join(pieces),
            model=self.name,
            prompt_tokens=max(int(self._llama.n_tokens) - len(pieces), 0),
            completion_tokens=len(pieces),
        )
