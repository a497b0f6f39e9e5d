"""Saved llama.cpp sequence states, by the tokens they hold, so that a call whose prompt starts
like an earlier one's resumes from that state and reads only the rest.

The answer, judge and scoring prompts each open with a constant system prompt, and they
alternate: llama.cpp reuses only the prefix it shares with what its context holds now, so
without saved states every call after a call of another kind reads its constant prefix again.
A state is the KV cells of sequence 0 only (no logits): ~28 KB per token for the 1.5B model, so a
handful of prompts' worth is a few tens of MB.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llama_cpp import Llama

SLOTS = 4


def shared(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens ``a`` and ``b`` have in common."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class Prefixes:
    def __init__(self, slots: int = SLOTS) -> None:
        self._slots = slots
        self._saved: OrderedDict[tuple[int, ...], Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._saved)

    def resume(self, llama: Llama, tokens: Sequence[int]) -> int:
        """Load the saved state sharing the most leading tokens with ``tokens``, when it shares
        more than the context holds now; returns how many tokens the context then shares."""
        import llama_cpp

        held = shared(llama._input_ids.tolist(), tokens)
        best = max(self._saved, key=lambda key: shared(key, tokens), default=None)
        if best is None or shared(best, tokens) <= held:
            return held
        data = self._saved[best]
        self._saved.move_to_end(best)
        llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        if llama_cpp.llama_state_seq_set_data(llama._ctx.ctx, data, len(data), 0) == 0:
            llama.reset()  # type: ignore[no-untyped-call]
            return 0
        llama.input_ids[: len(best)] = best
        llama.n_tokens = len(best)
        return shared(best, tokens)

    def keep(self, llama: Llama) -> None:
        """Save the context's state under the tokens it holds (the oldest state goes first)."""
        import llama_cpp

        key = tuple(llama._input_ids.tolist())
        if not key:
            return
        size = llama_cpp.llama_state_seq_get_size(llama._ctx.ctx, 0)
        data = (ctypes.c_uint8 * size)()
        llama_cpp.llama_state_seq_get_data(llama._ctx.ctx, data, size, 0)
        for stale in [k for k in self._saved if shared(k, key) == len(k)]:
            del self._saved[stale]  # a prefix of what is kept now
        self._saved[key] = data
        while len(self._saved) > self._slots:
            self._saved.popitem(last=False)
