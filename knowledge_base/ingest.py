"""Bring a vector store in line with a set of articles, embedding only what changed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel
from tqdm import tqdm

from core.embeddings import Embedder, Vectors
from knowledge_base.articles import Article, Chunk
from knowledge_base.chunking import chunk_article
from knowledge_base.store import VectorStore


class IngestReport(BaseModel):
    added: list[str] = []
    updated: list[str] = []
    removed: list[str] = []
    unchanged: list[str] = []
    chunks_written: int = 0


def _embed(
    chunks: Sequence[Chunk], embedder: Embedder, *, batch_size: int, progress: bool
) -> Vectors:
    with tqdm(total=len(chunks), desc="embedding", unit="chunk", disable=not progress) as bar:
        parts = []
        for start in range(0, len(chunks), batch_size):
            batch = chunks[start : start + batch_size]
            parts.append(embedder.embed_batch([c.embedding_text for c in batch]))
            bar.update(len(batch))
    return np.vstack(parts)


def ingest(
    articles: Sequence[Article],
    *,
    store: VectorStore,
    embedder: Embedder,
    progress: bool = True,
    batch_size: int = 64,
) -> IngestReport:
    """Add new articles, replace changed ones, drop missing ones; unchanged ones cost nothing.

    Everything is embedded before the store is touched, so a failing embedder leaves it as it was.
    """
    stored = store.article_hashes()
    report = IngestReport()
    pending: list[Article] = []
    for article in articles:
        known = stored.get(article.id)
        if known == article.content_hash:
            report.unchanged.append(article.id)
            continue
        (report.added if known is None else report.updated).append(article.id)
        pending.append(article)
    present = {a.id for a in articles}
    report.removed = sorted(set(stored) - present)

    chunks = [chunk for article in pending for chunk in chunk_article(article)]
    vectors = _embed(chunks, embedder, batch_size=batch_size, progress=progress) if chunks else None
    if stale := [*report.removed, *report.updated]:
        store.delete_articles(stale)
    if vectors is not None:
        store.upsert(chunks, vectors)
    report.chunks_written = len(chunks)
    return report
