from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from core.embeddings import Embedder, HashingEmbedder, Vectors
from knowledge_base.articles import Article
from knowledge_base.ingest import ingest
from knowledge_base.lexical import LexicalIndex, top_k
from knowledge_base.search import HybridSearcher, reciprocal_rank_fusion
from knowledge_base.store import ChromaStore, InMemoryStore, VectorStore


class SemanticFake(Embedder):
    """Plays a sentence model: knows that "money back" means refund, is blind to numbers."""

    name, dim = "semantic-fake", 4096

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        normalised = [
            re.sub(r"\S*\d\S*", " ", text.lower().replace("money back", "refund")) for text in texts
        ]
        return HashingEmbedder(self.dim).embed_batch(normalised)


class BlindEmbedder(Embedder):
    """Gives every text the same vector, so only the lexical leg can tell chunks apart."""

    name, dim = "blind", 8

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        return np.full((len(texts), self.dim), 1 / np.sqrt(self.dim), dtype=np.float32)


KB = [
    Article(id="refund", title="Refund policy", text="A refund reaches your card in 5 days."),
    Article(
        id="terminal",
        title="Terminal faults",
        text="Error 4711 means the card terminal lost its network; restart the terminal.",
        issue_type="payments",
    ),
    Article(id="app", title="App faults", text="Error: update the app.", issue_type="payments"),
    Article(id="printer", title="Printer", text="Error: add paper.", issue_type="hardware"),
    Article(id="password", title="Password reset", text="Tap Forgot password to reset it."),
]

# (query, gold article): the first needs meaning, the second an exact number.
PLANTED = [("how can I get my money back", "refund"), ("error 4711", "terminal")]


def searcher_for(articles: Sequence[Article], embedder: Embedder) -> HybridSearcher:
    store = InMemoryStore()
    ingest(articles, store=store, embedder=embedder, progress=False)
    return HybridSearcher(store, embedder)


def recall(rankings: Sequence[Sequence[str]], k: int) -> float:
    hits = [gold in ranking[:k] for ranking, (_, gold) in zip(rankings, PLANTED, strict=True)]
    return sum(hits) / len(hits)


def test_hybrid_finds_what_either_leg_alone_misses() -> None:
    embedder = SemanticFake()
    searcher = searcher_for(KB, embedder)
    index = LexicalIndex(searcher.store.chunks())

    dense = [
        [c.article_id for c, _ in searcher.store.query(embedder.embed(q), 10)] for q, _ in PLANTED
    ]
    lexical = [[c.article_id for c, _ in index.query(q, 10)] for q, _ in PLANTED]
    hybrid = [searcher.search_articles(q, 10) for q, _ in PLANTED]

    assert recall(dense, 2) == recall(lexical, 2) == 0.5
    assert recall(hybrid, 2) == 1.0
    assert hybrid[0][0] == "refund"


def test_search_returns_passages_best_first_with_their_cosine() -> None:
    embedder = SemanticFake()
    searcher = HybridSearcher(searcher_for(KB, embedder).store, embedder, leg_depth=1)

    passages = searcher.search("error 4711", 2)

    assert [p.article_id for p in passages] == ["printer", "terminal"]  # a tie, broken by id
    assert passages[0].score >= passages[1].score
    query = embedder.embed("error 4711")
    for passage in passages:  # each came from one leg only, yet each has its true cosine
        expected = float(embedder.embed(passage.chunk.embedding_text) @ query)
        assert passage.dense_score == pytest.approx(expected, abs=1e-5)


def test_issue_type_filters_both_legs() -> None:
    searcher = searcher_for(KB, SemanticFake())

    passages = searcher.search("refund error 4711 password", 5, issue_type="payments")

    assert {p.article_id for p in passages} == {"terminal", "app"}
    assert searcher.search("refund", 5, issue_type="hardware")[0].article_id == "printer"
    assert searcher.search("refund", 5, issue_type="nothing") == []


def test_the_lexical_index_is_rebuilt_after_an_upsert() -> None:
    embedder = BlindEmbedder()
    searcher = searcher_for(KB, embedder)
    assert "zeppelin" not in searcher.search_articles("zeppelin hangar", 3)

    airship = Article(id="zeppelin", title="Airships", text="The zeppelin docks at the hangar.")
    ingest([*KB, airship], store=searcher.store, embedder=embedder, progress=False)

    assert searcher.search_articles("zeppelin hangar", 3)[0] == "zeppelin"


def test_an_empty_store_finds_nothing() -> None:
    searcher = HybridSearcher(InMemoryStore(), HashingEmbedder())

    assert searcher.search("anything", 3) == []
    assert searcher.search_articles("anything", 3) == []


def test_reciprocal_rank_fusion_sums_over_rankings() -> None:
    fused = reciprocal_rank_fusion([["a", "b"], ["b"]], k=10)

    assert fused == pytest.approx({"a": 1 / 11, "b": 1 / 12 + 1 / 11})


def test_hits_widen_to_their_whole_section_once_with_overlap_joined() -> None:
    from knowledge_base.articles import Article, Passage
    from knowledge_base.chunking import chunk_article
    from knowledge_base.search import section_passages

    body = " ".join(f"Sentence number {n} about refunds and their deadlines." for n in range(12))
    article = Article(id="a-1", title="Refunds", text=f"## Deadlines\n{body}\n\n## Other\nShort.")
    chunks = chunk_article(article, max_chars=120, overlap=30)
    deadline_chunks = [c for c in chunks if c.section == "Deadlines"]
    assert len(deadline_chunks) > 2
    hits = [
        Passage(chunk=deadline_chunks[1], score=0.9, dense_score=0.4),
        Passage(chunk=deadline_chunks[2], score=0.8, dense_score=0.7),
    ]
    widened = section_passages(hits, chunks)
    assert len(widened) == 1
    assert widened[0].text == body
    assert widened[0].dense_score == 0.7
    assert widened[0].chunk.section == "Deadlines"


@pytest.fixture(params=["memory", pytest.param("chroma", marks=pytest.mark.integration)])
def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[VectorStore, VectorStore]:
    """Two handles on one store, as two replicas hold them: the same in-memory store, or two
    clients of one Chroma collection (integration: real Chroma on disk costs seconds)."""
    if request.param == "memory":
        shared = InMemoryStore()
        return shared, shared
    first, second = (ChromaStore.persistent(tmp_path / "chroma", "test_kb") for _ in range(2))
    return first, second


def test_an_edit_with_the_same_chunk_count_reaches_the_other_searcher(
    replicas: tuple[VectorStore, VectorStore],
) -> None:
    writer, reader = replicas
    embedder = HashingEmbedder()
    ingest(KB, store=writer, embedder=embedder, progress=False)
    other = HybridSearcher(reader, embedder)
    assert "Error: add paper." in {p.text for p in other.sections()}  # its lexical index, built
    count = reader.count()

    edited = Article(
        id="printer", title="Printer", text="Zorblax: add paper.", issue_type="hardware"
    )
    report = ingest(
        [edited if a.id == "printer" else a for a in KB],
        store=writer,
        embedder=embedder,
        progress=False,
    )

    assert report.updated == ["printer"] and reader.count() == count
    sections = {p.text for p in other.sections()}
    assert "Zorblax: add paper." in sections and "Error: add paper." not in sections
    (passage,) = other.widen(other.search("zorblax", 1))
    assert (passage.article_id, passage.text) == ("printer", "Zorblax: add paper.")


def test_top_k_is_a_stable_sort_of_every_score_cut_at_k() -> None:
    rng = np.random.default_rng(7)
    for n, k in [(1, 1), (5, 10), (50, 5), (1000, 50), (1000, 1)]:
        for _ in range(20):
            scores = rng.integers(0, 4, size=n).astype(np.float32)  # many ties
            expected = np.argsort(-scores, kind="stable")[:k]
            assert top_k(scores, k).tolist() == expected.tolist()
