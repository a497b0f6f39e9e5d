from __future__ import annotations

import numpy as np

from core.embeddings import CachingEmbedder, HashingEmbedder


class Counting(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_batch(self, texts):  # type: ignore[no-untyped-def]
        self.texts += list(texts)
        return super().embed_batch(texts)


def test_a_text_seen_again_is_not_embedded_again_and_the_oldest_go_first() -> None:
    inner = Counting()
    cached = CachingEmbedder(inner, max_items=2)
    first = cached.embed_batch(["refund deadline", "instant pay fee"])
    again = cached.embed_batch(["instant pay fee", "refund deadline", "instant pay fee"])
    assert inner.texts == ["refund deadline", "instant pay fee"]
    assert np.array_equal(again[1], first[0]) and np.array_equal(again[0], first[1])
    cached.embed_batch(["password reset"])  # evicts "refund deadline", the least recent
    cached.embed_batch(["refund deadline"])
    assert inner.texts[-1] == "refund deadline" and len(inner.texts) == 4
    assert cached.embed_batch([]).shape == (0, cached.dim)
