"""Hybrid retrieval: a dense leg (the vector store) and a lexical leg (BM25), fused by rank."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from core.embeddings import Embedder
from knowledge_base.articles import Chunk, Passage
from knowledge_base.lexical import LexicalLeg, MemoryLexical
from knowledge_base.store import Vector, VectorStore

# Chosen on the emanual dev split (see evals/RETRIEVAL_NOTES.md): the usual RRF constant, and
# 50 chunks per leg (20 lost recall, 100 and more changed nothing).
RRF_K = 60
LEG_DEPTH = 50


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


class HybridSearcher:
    """Dense and BM25 legs, fused by reciprocal rank. The lexical leg is an in-process index of
    the store's chunks unless one kept in the database is given (knowledge_base/lexical.py)."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        *,
        lexical: LexicalLeg | None = None,
        rrf_k: int = RRF_K,
        leg_depth: int = LEG_DEPTH,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.lexical = lexical or MemoryLexical(store)
        self._rrf_k = rrf_k
        self._leg_depth = leg_depth

    def _legs(
        self, query: str, issue_type: str | None
    ) -> tuple[Vector, list[tuple[Chunk, float]], list[tuple[Chunk, float]]]:
        lexical = self.lexical.query(query, self._leg_depth, issue_type=issue_type)
        vector = self.embedder.embed(query)
        dense = self.store.query(vector, self._leg_depth, issue_type=issue_type)
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

    def sections(self, article_ids: Sequence[str] | None = None) -> list[Passage]:
        """Every section of the knowledge base (or of these articles) as one passage."""
        chunks = self.lexical.chunks(article_ids)
        return section_passages([Passage(chunk=c, score=0.0) for c in chunks], chunks)

    def widen(self, passages: Sequence[Passage]) -> list[Passage]:
        """``passages`` widened to their whole sections (see :func:`section_passages`): only
        their articles' chunks are read."""
        if not passages:
            return []
        articles = list(dict.fromkeys(p.article_id for p in passages))
        return section_passages(passages, self.lexical.chunks(articles))

    def search_articles(self, query: str, k: int) -> list[str]:
        """The ``k`` best article ids: each leg ranks articles by their best chunk, then fusion.

        On the emanual dev split this did slightly better than fusing chunks first.
        """
        _, dense, lexical = self._legs(query, None)
        fused = reciprocal_rank_fusion([_articles(dense), _articles(lexical)], k=self._rrf_k)
        return _best_first(fused)[:k]
