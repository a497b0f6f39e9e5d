"""The hybrid search as a LangChain retriever, on the shared fake knowledge base."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from core.embeddings import HashingEmbedder
from knowledge_base.langchain import TetherRetriever, document_passage, passage_document
from knowledge_base.search import HybridSearcher
from knowledge_base.store import InMemoryStore
from tests.conftest import ARTICLES, make_passage

FEE_QUESTION = "How much does an Instant Pay cash-out cost?"


@pytest.fixture
def retriever(embedder: HashingEmbedder, kb_store: InMemoryStore) -> TetherRetriever:
    return TetherRetriever(searcher=HybridSearcher(kb_store, embedder), k=3)


def test_invoke_returns_the_article_that_answers_the_question(retriever: TetherRetriever) -> None:
    documents = retriever.invoke(FEE_QUESTION)
    assert len(documents) == 3
    best = documents[0]
    assert (best.metadata["article_id"], best.metadata["section"]) == ("pay-002", "Fees")
    assert "$0.85" in best.page_content
    assert best.id == best.metadata["chunk_id"] == "pay-002#0"
    scores = [d.metadata["score"] for d in documents]
    assert scores == sorted(scores, reverse=True)


def test_batch_answers_each_query(retriever: TetherRetriever) -> None:
    results = retriever.batch([FEE_QUESTION, "My password reset link expired"])
    assert [r[0].metadata["article_id"] for r in results] == ["pay-002", "acct-001"]


def test_the_retriever_is_a_step_of_an_lcel_chain(retriever: TetherRetriever) -> None:
    def cite(documents: Sequence[Document]) -> str:
        return "\n".join(f"[{d.metadata['article_id']}] {d.page_content}" for d in documents)

    chain = retriever | RunnableLambda(cite)
    assert chain.invoke(FEE_QUESTION).startswith("[pay-002] Each Instant Pay cash-out costs $0.85.")


def test_issue_type_keeps_to_that_type_of_article(
    embedder: HashingEmbedder, kb_store: InMemoryStore
) -> None:
    retriever = TetherRetriever(
        searcher=HybridSearcher(kb_store, embedder), k=5, issue_type="refunds"
    )
    documents = retriever.invoke(FEE_QUESTION)
    assert documents
    assert {d.metadata["article_id"] for d in documents} == {"ref-001"}


def test_sections_widen_each_hit_to_its_section(embedder: HashingEmbedder) -> None:
    retriever = TetherRetriever.from_articles(ARTICLES, embedder, k=1, sections=True)
    (document,) = retriever.invoke(FEE_QUESTION)
    assert document.id == "pay-002#Fees"
    assert "up to 5 times per day" in document.page_content


def test_a_document_turns_back_into_its_passage() -> None:
    passage = make_passage(
        "pay-002", "Each cash-out costs $0.85.", title="Instant Pay", section="Fees", score=0.5
    )
    assert document_passage(passage_document(passage)) == passage


def test_a_document_from_elsewhere_is_an_article_of_its_own() -> None:
    passage = document_passage(Document(id="faq-7", page_content="Shops close at 22:00."))
    assert (passage.article_id, passage.chunk.id, passage.text) == (
        "faq-7",
        "faq-7",
        "Shops close at 22:00.",
    )
