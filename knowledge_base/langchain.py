"""Tether's hybrid search as a LangChain retriever (optional: ``pip install -e '.[langchain]'``).

A retrieved passage becomes a ``Document``: ``page_content`` is the passage's text, ``id`` its
chunk id, and ``metadata`` the fields of :class:`DocumentMetadata` (article id, title, section,
issue type, fused score, cosine to the query). :func:`document_passage` turns such a document
back into a :class:`~knowledge_base.articles.Passage`, for the answer check
(guardrails/langchain.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import BaseModel, Field

from core.embeddings import Embedder
from knowledge_base.articles import Article, Chunk, Passage
from knowledge_base.ingest import ingest
from knowledge_base.search import HybridSearcher
from knowledge_base.store import InMemoryStore


class DocumentMetadata(BaseModel):
    """The metadata of a retrieved document; a document from elsewhere may have none of it."""

    article_id: str = ""
    chunk_id: str = ""
    title: str = ""
    section: str = ""
    issue_type: str = "general"
    updated: str = ""
    # The reciprocal-rank-fusion score and the chunk's cosine similarity to the query.
    score: float = 0.0
    dense_score: float = 0.0


def passage_document(passage: Passage) -> Document:
    """A retrieved passage as a LangChain document."""
    chunk = passage.chunk
    metadata = DocumentMetadata(
        article_id=chunk.article_id,
        chunk_id=chunk.id,
        title=chunk.title,
        section=chunk.section,
        issue_type=chunk.issue_type,
        updated=chunk.updated,
        score=passage.score,
        dense_score=passage.dense_score,
    )
    return Document(id=chunk.id, page_content=chunk.text, metadata=metadata.model_dump())


def document_passage(document: Document) -> Passage:
    """A document as a passage: the inverse of :func:`passage_document`. A document without
    Tether's metadata is an article of its own, named by its id (else ``document``)."""
    meta = DocumentMetadata.model_validate(document.metadata)
    article_id = meta.article_id or document.id or "document"
    chunk = Chunk(
        id=meta.chunk_id or document.id or f"{article_id}#0",
        article_id=article_id,
        title=meta.title,
        section=meta.section,
        text=document.page_content,
        issue_type=meta.issue_type,
        updated=meta.updated,
    )
    return Passage(chunk=chunk, score=meta.score, dense_score=meta.dense_score)


class TetherRetriever(BaseRetriever):
    """Hybrid search (dense + BM25, reciprocal rank fusion: knowledge_base/search.py).

    ``k`` best chunks, best first, optionally within one ``issue_type``; with ``sections`` each
    hit is widened to its whole section, as the assistant answers from.
    """

    searcher: HybridSearcher
    k: int = Field(default=6, ge=1)
    issue_type: str | None = None
    sections: bool = False

    @classmethod
    def from_articles(
        cls, articles: Sequence[Article], embedder: Embedder, *, k: int = 6, sections: bool = False
    ) -> TetherRetriever:
        """A retriever over ``articles`` chunked and embedded into an in-memory store."""
        store = InMemoryStore()
        ingest(articles, store=store, embedder=embedder, progress=False)
        return cls(searcher=HybridSearcher(store, embedder), k=k, sections=sections)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        passages = self.searcher.search(query, self.k, issue_type=self.issue_type)
        if self.sections:
            passages = self.searcher.widen(passages)
        return [passage_document(p) for p in passages]
