"""Vectors for the scale benchmark: synthetic ones, the ones ingest computed, exact search."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from core.embeddings import Embedder, Vectors

_DIGITS = re.compile(r"\d+")


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _unit(rows: npt.NDArray[np.float64]) -> Vectors:
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return np.asarray(rows / np.maximum(norms, 1e-12), dtype=np.float32)


class SyntheticEmbedder(Embedder):
    """Deterministic random unit vectors, clustered by the text's first line with its digits
    removed: for a chunk that is ``title > section``, so every repetition of a section (its
    edition number and shifted numbers aside) lands around the same centre. A row is the
    centre plus noise of about the same length (cosine about 0.7 to its centre, 0.5 to a
    sibling): neighbours are close but not copies, which is what makes approximate search work
    for its recall. No model: ingest speed and recall measured with these are the store's and
    the index's, not the embedder's."""

    name = "synthetic"

    def __init__(self, dim: int = 384, noise: float = 1.0) -> None:
        self.dim = dim
        self._noise = noise / np.sqrt(dim)
        self._centres: dict[str, npt.NDArray[np.float64]] = {}

    def _centre(self, key: str) -> npt.NDArray[np.float64]:
        centre = self._centres.get(key)
        if centre is None:
            raw = np.random.default_rng(_seed(f"centre:{key}")).standard_normal(self.dim)
            centre = raw / np.linalg.norm(raw)
            self._centres[key] = centre
        return centre

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        rows = np.empty((len(texts), self.dim), dtype=np.float64)
        for row, text in enumerate(texts):
            key = " ".join(_DIGITS.sub("", text.split("\n", 1)[0]).split())
            noise = np.random.default_rng(_seed(text)).standard_normal(self.dim)
            rows[row] = self._centre(key) + self._noise * noise
        return _unit(rows)


class RecordingEmbedder(Embedder):
    """Passes texts to ``inner`` and keeps every row it returned, in order, and the seconds
    spent: the vectors ingest wrote, for exact search, and the embedder's share of its time."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.name = inner.name
        self.seconds = 0.0
        self._parts: list[Vectors] = []

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        start = time.perf_counter()
        rows = self.inner.embed_batch(texts)
        self.seconds += time.perf_counter() - start
        self._parts.append(rows)
        return rows

    def matrix(self) -> Vectors:
        if not self._parts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack(self._parts)


def near(matrix: Vectors, n: int, *, seed: int = 0, noise: float = 0.7) -> Vectors:
    """``n`` query vectors, each a stored row drawn at random plus noise: queries that have
    neighbours, as real questions about the knowledge base do."""
    rng = np.random.default_rng(seed)
    rows = matrix[rng.integers(0, len(matrix), size=n)].astype(np.float64)
    jitter = rng.standard_normal(rows.shape) * (noise / np.sqrt(matrix.shape[1]))
    return _unit(rows + jitter)


def exact_top_k(
    matrix: Vectors, queries: Vectors, k: int, *, batch: int = 64
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Row indices and cosines of each query's ``k`` most similar rows, best first, by brute
    force (``batch`` queries at a time, so a million rows need no million-wide score block per
    query)."""
    k = min(k, len(matrix))
    indices = np.zeros((len(queries), k), dtype=np.int64)
    scores = np.zeros((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), batch):
        block = queries[start : start + batch] @ matrix.T
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        part = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-part, axis=1, kind="stable")
        indices[start : start + batch] = np.take_along_axis(top, order, axis=1)
        scores[start : start + batch] = np.take_along_axis(part, order, axis=1)
    return indices, scores


def recall_at_k(
    found: Sequence[Sequence[int]],
    exact_scores: npt.NDArray[np.float32],
    matrix: Vectors,
    queries: Vectors,
    *,
    tolerance: float = 1e-5,
) -> float:
    """Mean share of each query's exact top ``k`` that ``found`` returned, ties counted: a
    returned row scores when its true cosine reaches the exact ``k``-th best (less
    ``tolerance``), so a copy of a true neighbour found in its place is no miss."""
    k = exact_scores.shape[1]
    if k == 0 or len(queries) == 0:
        return 1.0
    shares = []
    for rows, kth, query in zip(found, exact_scores[:, -1], queries, strict=True):
        hits = 0
        if len(rows):
            true = matrix[np.asarray(rows[:k], dtype=np.int64)] @ query
            hits = int(np.count_nonzero(true >= kth - tolerance))
        shares.append(min(hits, k) / k)
    return float(np.mean(shares))
