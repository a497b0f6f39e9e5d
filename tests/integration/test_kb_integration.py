"""The knowledge base on the real stack: MiniLM, persistent Chroma, and a Chroma server."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from assistant.settings import SAMPLE_KB
from core.embeddings import Embedder, MiniLMEmbedder, Vectors
from knowledge_base.articles import Article, load_articles
from knowledge_base.ingest import ingest
from knowledge_base.search import HybridSearcher
from knowledge_base.store import ChromaStore
from tests.integration.conftest import free_port, start_server, stop_server

pytestmark = pytest.mark.integration


class CountingEmbedder(Embedder):
    """MiniLM, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.name = inner.name
        self.requested = 0

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        self.requested += len(texts)
        return self.inner.embed_batch(texts)


@pytest.fixture(scope="module")
def embedder(minilm: MiniLMEmbedder) -> CountingEmbedder:
    return CountingEmbedder(minilm)


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return load_articles(SAMPLE_KB / "articles")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """A ``chroma run`` server from the venv on a free loopback port, stopped afterwards."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    server = start_server(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        f"http://127.0.0.1:{port}/api/v2/heartbeat",
        timeout=60,
        env={"ANONYMIZED_TELEMETRY": "False"},
    )
    yield port
    stop_server(server)


def test_re_ingestion_into_persistent_chroma_is_idempotent(
    tmp_path: Path, embedder: CountingEmbedder, articles: list[Article]
) -> None:
    first = ingest(articles, store=ChromaStore.persistent(tmp_path, "tether_kb"), embedder=embedder)
    assert sorted(first.added) == sorted(a.id for a in articles)
    requested = embedder.requested

    reopened = ChromaStore.persistent(tmp_path, "tether_kb")
    again = ingest(articles, store=reopened, embedder=embedder, progress=False)

    assert again.unchanged == [a.id for a in articles]
    assert again.chunks_written == 0 and embedder.requested == requested
    assert reopened.count() == first.chunks_written
    searcher = HybridSearcher(reopened, embedder)
    for article in articles[:5]:
        assert article.id in searcher.search_articles(article.title, 3)


def test_a_chroma_server_gives_the_same_results_as_embedded_chroma(
    tmp_path: Path, chroma_server: int, embedder: CountingEmbedder, articles: list[Article]
) -> None:
    embedded = ChromaStore.persistent(tmp_path / "embedded", "tether_kb")
    remote = ChromaStore.http("127.0.0.1", chroma_server, "tether_kb")
    for store in (embedded, remote):
        ingest(articles, store=store, embedder=embedder, progress=False)
    assert remote.is_ready() and remote.count() == embedded.count()

    local_search, remote_search = (
        HybridSearcher(embedded, embedder),
        HybridSearcher(remote, embedder),
    )
    for query in [a.title for a in articles[:8]] + ["how long do I have to ask for a refund?"]:
        local = local_search.search(query, 4)
        served = remote_search.search(query, 4)
        assert [p.chunk.id for p in served] == [p.chunk.id for p in local]
        assert [p.dense_score for p in served] == pytest.approx(
            [p.dense_score for p in local], abs=1e-5
        )
        assert remote_search.search_articles(query, 3) == local_search.search_articles(query, 3)
