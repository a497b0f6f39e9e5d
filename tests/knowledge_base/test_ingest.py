from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from core.embeddings import Embedder, HashingEmbedder, Vectors
from knowledge_base.articles import Article
from knowledge_base.ingest import ingest
from knowledge_base.store import InMemoryStore, VectorStore


class CountingEmbedder(Embedder):
    """Wraps another embedder and counts the texts it was asked to embed."""

    name = "counting"

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.dim, self.texts = inner, inner.dim, 0

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        self.texts += len(texts)
        return self.inner.embed_batch(texts)


class FailingEmbedder(Embedder):
    name, dim = "failing", 8

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        raise RuntimeError("model crashed")


def articles(**texts: str) -> list[Article]:
    return [
        Article(id=i, title=f"About {i}", text=t, issue_type="general") for i, t in texts.items()
    ]


KB = articles(
    one="## Fees\nInstant Pay costs $0.85.\n\n## Limits\nFive cash-outs a day.",
    two="Refunds must be requested within 7 days.",
    three="Reset links expire after 30 minutes.",
)


@pytest.fixture
def counting() -> CountingEmbedder:
    return CountingEmbedder(HashingEmbedder())


def test_first_ingest_adds_every_article(store: VectorStore, counting: CountingEmbedder) -> None:
    report = ingest(KB, store=store, embedder=counting, progress=False)

    assert report.added == ["one", "two", "three"]
    assert report.updated == report.removed == report.unchanged == []
    assert report.chunks_written == counting.texts == store.count() == 4


def test_re_ingesting_the_same_articles_embeds_nothing(
    store: VectorStore, counting: CountingEmbedder
) -> None:
    ingest(KB, store=store, embedder=counting, progress=False)
    embedded, revision = counting.texts, store.revision

    report = ingest(KB, store=store, embedder=counting, progress=False)

    assert counting.texts == embedded
    assert report.unchanged == ["one", "two", "three"]
    assert report.chunks_written == 0
    assert store.revision == revision


def test_a_changed_article_replaces_its_old_chunks(
    store: VectorStore, counting: CountingEmbedder
) -> None:
    ingest(KB, store=store, embedder=counting, progress=False)
    embedded = counting.texts
    changed = [*articles(one="Instant Pay now costs $0.99."), *KB[1:]]

    report = ingest(changed, store=store, embedder=counting, progress=False)

    assert report.updated == ["one"] and report.unchanged == ["two", "three"]
    assert counting.texts - embedded == 1
    texts = [c.text for c in store.chunks() if c.article_id == "one"]
    assert texts == ["Instant Pay now costs $0.99."]
    assert store.article_hashes()["one"] == changed[0].content_hash


def test_an_article_no_longer_present_is_removed(store: VectorStore) -> None:
    embedder = HashingEmbedder()
    ingest(KB, store=store, embedder=embedder, progress=False)

    report = ingest(KB[:2], store=store, embedder=embedder, progress=False)

    assert report.removed == ["three"]
    assert "three" not in store.article_hashes()
    assert {c.article_id for c in store.chunks()} == {"one", "two"}


def test_a_failing_embedder_leaves_the_store_untouched() -> None:
    store = InMemoryStore()
    ingest(KB, store=store, embedder=HashingEmbedder(dim=8), progress=False)
    before = store.chunks()

    with pytest.raises(RuntimeError):
        ingest(articles(one="changed", four="new"), store=store, embedder=FailingEmbedder())

    assert store.chunks() == before


def test_batches_and_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    store, counting = InMemoryStore(), CountingEmbedder(HashingEmbedder())
    many = articles(**{f"a{n}": f"text number {n}" for n in range(5)})

    ingest(many, store=store, embedder=counting, batch_size=2)
    assert "embedding" in capsys.readouterr().err
    ingest(many, store=store, embedder=counting)

    assert capsys.readouterr().err == ""
    assert counting.texts == 5
    stored = {c.id: c for c in store.chunks()}
    (hit, score), *_ = store.query(HashingEmbedder().embed(stored["a3#0"].embedding_text), 1)
    assert hit.id == "a3#0" and np.isclose(score, 1.0)
