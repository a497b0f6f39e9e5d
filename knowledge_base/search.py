"""Hybrid retrieval: a dense leg (the vector store) and a lexical leg (BM25), fused by rank."""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence

import bm25s
import numpy as np
import Stemmer

from core.embeddings import Embedder
from knowledge_base.articles import Chunk, Passage
from knowledge_base.store import Vector, VectorStore

# Chosen on the emanual dev split (see evals/RETRIEVAL_NOTES.md): the usual RRF constant, and
# 50 chunks per leg (20 lost recall, 100 and more changed nothing).
RRF_K = 60
LEG_DEPTH = 50

_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN)
_STEMMER = Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased English-stemmed words, stopwords dropped."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return list(_STEMMER.stemWords(words))


def reciprocal_rank_fusion(rankings: Iterable[Sequence[str]], *, k: int) -> dict[str, float]:
    """Sum of ``1 / (k + rank)`` over the rankings each key appears in (rank starts at 1)."""
    fused: defaultdict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] += 1.0 / (k + rank)
    return dict(fused)


def _best_first(fused: dict[str, float]) -> list[str]:
    return sorted(fused, key=lambda key: (-fused[key], key))


def _articles(hits: Sequence[tuple[Chunk, float]]) -> list[str]:
    """Article ids in order of their best chunk in a best-first list of chunk hits."""
    return list(dict.fromkeys(chunk.article_id for chunk, _ in hits))


def _join_overlapping(pieces: Sequence[str]) -> str:
    """Consecutive chunk texts joined back together, their shared overlap written once."""
    text = ""
    for piece in pieces:
        overlap = next(
            (n for n in range(min(len(text), len(piece)), 0, -1) if text.endswith(piece[:n])), 0
        )
        if overlap:
            text += piece[overlap:]
        else:
            text = f"{text}\n{piece}" if text else piece
    return text


def section_passages(passages: Sequence[Passage], chunks: Sequence[Chunk]) -> list[Passage]:
    """Each hit widened to its whole section, one passage per section, in the hits' order.

    Small chunks retrieve best (see evals/RETRIEVAL_NOTES.md); a whole section answers best.
    """
    by_section: dict[tuple[str, str], list[Chunk]] = {}
    for chunk in chunks:
        by_section.setdefault((chunk.article_id, chunk.section), []).append(chunk)
    widened: dict[tuple[str, str], Passage] = {}
    for passage in passages:
        key = (passage.article_id, passage.chunk.section)
        if key in widened:
            best = widened[key]
            widened[key] = best.model_copy(
                update={"dense_score": max(best.dense_score, passage.dense_score)}
            )
            continue
        members = sorted(by_section.get(key, [passage.chunk]), key=_chunk_index)
        text = _join_overlapping([c.text for c in members])
        chunk = passage.chunk.model_copy(
            update={"id": f"{passage.article_id}#{key[1]}", "text": text}
        )
        widened[key] = passage.model_copy(update={"chunk": chunk})
    return list(widened.values())


def _chunk_index(chunk: Chunk) -> int:
    _, _, number = chunk.id.rpartition("#")
    return int(number) if number.isdigit() else 0


class LexicalIndex:
    """BM25 over chunks: title, section and text."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self._chunks = list(chunks)
        self._issue_types = np.array([c.issue_type for c in self._chunks])
        self.chunks: tuple[Chunk, ...] = tuple(self._chunks)
        self._bm25 = bm25s.BM25()
        if self._chunks:
            tokens = [tokenize(c.embedding_text) for c in self._chunks]
            self._bm25.index(tokens, show_progress=False)

    def query(
        self, text: str, k: int, *, issue_type: str | None = None
    ) -> list[tuple[Chunk, float]]:
        """The ``k`` best-scoring chunks that share at least one word with ``text``."""
        if not self._chunks:
            return []
        vocab = self._bm25.vocab_dict
        tokens = [t for t in tokenize(text) if t in vocab]
        if not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
        if issue_type is not None:
            scores[self._issue_types != issue_type] = 0.0
        top = top_k(scores, k)
        return [(self._chunks[i], float(scores[i])) for i in top if scores[i] > 0]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The indices of the ``k`` highest scores, highest first, ties in index order: what a
    stable sort of every score gives, without sorting them all (a partition finds the k-th
    score, and only the scores at or above it are sorted: over 1M scores, 31 ms instead of
    496 ms for the top 50, measured on the shared 2 cores)."""
    n = len(scores)
    if k >= n:
        return np.argsort(-scores, kind="stable")[:k]
    kth = np.partition(scores, n - k)[n - k]
    candidates = np.flatnonzero(scores >= kth)
    return candidates[np.argsort(-scores[candidates], kind="stable")][:k]


class HybridSearcher:
    """Dense and BM25 legs over the same store, fused by reciprocal rank."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        *,
        rrf_k: int = RRF_K,
        leg_depth: int = LEG_DEPTH,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self._rrf_k = rrf_k
        self._leg_depth = leg_depth
        self._index: tuple[VectorStore, int, LexicalIndex] | None = None
        self._lock = threading.Lock()

    def _lexical(self) -> LexicalIndex:
        """The BM25 index of the current store, rebuilt when its revision moves."""
        with self._lock:
            store, revision = self.store, self.store.revision
            if self._index is None or self._index[0] is not store or self._index[1] != revision:
                self._index = (store, revision, LexicalIndex(store.chunks()))
            return self._index[2]

    def _legs(
        self, query: str, issue_type: str | None
    ) -> tuple[Vector, list[tuple[Chunk, float]], list[tuple[Chunk, float]]]:
        index = self._lexical()
        vector = self.embedder.embed(query)
        dense = self.store.query(vector, self._leg_depth, issue_type=issue_type)
        lexical = index.query(query, self._leg_depth, issue_type=issue_type)
        return vector, dense, lexical

    def search(self, query: str, k: int, *, issue_type: str | None = None) -> list[Passage]:
        """The ``k`` best chunks, best first; ``dense_score`` is the chunk's cosine to the query."""
        vector, dense, lexical = self._legs(query, issue_type)
        fused = reciprocal_rank_fusion(
            [[c.id for c, _ in dense], [c.id for c, _ in lexical]], k=self._rrf_k
        )
        top = _best_first(fused)[:k]
        chunks = {c.id: c for c, _ in [*dense, *lexical]}
        cosines = {c.id: score for c, score in dense}
        missing = [chunk_id for chunk_id in top if chunk_id not in cosines]
        cosines.update(self.store.similarities(vector, missing))
        return [
            Passage(chunk=chunks[i], score=fused[i], dense_score=cosines.get(i, 0.0)) for i in top
        ]

    def sections(self) -> list[Passage]:
        """Every section of the knowledge base as one passage."""
        chunks = self._lexical().chunks
        return section_passages([Passage(chunk=c, score=0.0) for c in chunks], chunks)

    def widen(self, passages: Sequence[Passage]) -> list[Passage]:
        """``passages`` widened to their whole sections (see :func:`section_passages`)."""
        return section_passages(passages, self._lexical().chunks)

    def search_articles(self, query: str, k: int) -> list[str]:
        """The ``k`` best article ids: each leg ranks articles by their best chunk, then fusion.

        On the emanual dev split this did slightly better than fusing chunks first.
        """
        _, dense, lexical = self._legs(query, None)
        fused = reciprocal_rank_fusion([_articles(dense), _articles(lexical)], k=self._rrf_k)
        return _best_first(fused)[:k]
