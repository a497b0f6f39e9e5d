"""The VectorStore contract, run on InMemoryStore and on ChromaStore over a temporary directory.

What runs on real Chroma (the contract's chroma half and the ChromaStore tests below) is in the
integration set: it tests the adapter on Chroma itself, and opening Chroma costs seconds."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from core.errors import StoreError
from knowledge_base.store import ChromaStore, Vector, VectorStore
from tests.knowledge_base.conftest import make_chunk


def unit(*values: float) -> Vector:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def fill(store: VectorStore) -> None:
    store.upsert(
        [
            make_chunk("a", 0, "alpha", "refunds"),
            make_chunk("a", 1, "alpha two", "refunds"),
            make_chunk("b", 0, "beta", "payments"),
        ],
        np.vstack([unit(1, 0, 0), unit(1, 1, 0), unit(0, 1, 0)]),
    )


def test_query_ranks_by_cosine_similarity(store: VectorStore) -> None:
    fill(store)

    hits = store.query(unit(1, 0, 0), 3)

    assert [c.id for c, _ in hits] == ["a#0", "a#1", "b#0"]
    assert [round(s, 3) for _, s in hits] == [1.0, 0.707, 0.0]
    assert hits[0][0] == make_chunk("a", 0, "alpha", "refunds")


def test_query_filters_on_issue_type_and_caps_at_k(store: VectorStore) -> None:
    fill(store)

    assert [c.id for c, _ in store.query(unit(1, 0, 0), 5, issue_type="payments")] == ["b#0"]
    assert len(store.query(unit(1, 0, 0), 1)) == 1
    assert store.query(unit(1, 0, 0), 5, issue_type="unknown") == []


def test_upsert_replaces_by_chunk_id(store: VectorStore) -> None:
    fill(store)

    store.upsert([make_chunk("b", 0, "beta rewritten", "payments")], unit(0, 0, 1)[None, :])

    assert store.count() == 3
    (chunk, score), *_ = store.query(unit(0, 0, 1), 1)
    assert (chunk.id, chunk.text, round(score, 3)) == ("b#0", "beta rewritten", 1.0)


def test_delete_articles_removes_all_their_chunks(store: VectorStore) -> None:
    fill(store)

    store.delete_articles(["a"])

    assert [c.id for c in store.chunks()] == ["b#0"]
    assert store.article_hashes() == {"b": "hash-b"}


def test_chunks_are_ordered_by_article_then_position(store: VectorStore) -> None:
    chunks = [make_chunk("b", 0, "x"), make_chunk("a", 10, "y"), make_chunk("a", 2, "z")]
    store.upsert(chunks, np.vstack([unit(1, 0), unit(0, 1), unit(1, 1)]))

    assert [c.id for c in store.chunks()] == ["a#2", "a#10", "b#0"]
    assert store.article_hashes() == {"a": "hash-a", "b": "hash-b"}


def test_similarities_are_exact_and_skip_unknown_ids(store: VectorStore) -> None:
    fill(store)

    scores = store.similarities(unit(0, 1, 0), ["a#1", "b#0", "zzz#0"])

    assert {k: round(v, 3) for k, v in scores.items()} == {"a#1": 0.707, "b#0": 1.0}
    assert store.similarities(unit(0, 1, 0), []) == {}


def test_revision_increases_on_every_write(store: VectorStore) -> None:
    start = store.revision
    fill(store)
    after_upsert = store.revision
    store.delete_articles(["a"])

    assert start < after_upsert < store.revision


def test_an_empty_store_is_ready_and_answers_nothing(store: VectorStore) -> None:
    assert store.is_ready()
    assert store.count() == 0
    assert store.query(unit(1, 0, 0), 3) == []
    assert store.chunks() == []
    assert store.article_hashes() == {}


def test_mismatched_vectors_are_a_usage_error(store: VectorStore) -> None:
    with pytest.raises(ValueError, match="2 chunks"):
        store.upsert([make_chunk("a", 0, "x"), make_chunk("a", 1, "y")], unit(1, 0)[None, :])


@pytest.mark.integration
def test_chroma_failures_become_store_errors(tmp_path: Path) -> None:
    store = ChromaStore.persistent(tmp_path, "test_kb")
    fill(store)

    with pytest.raises(StoreError, match="upsert"):
        store.upsert([make_chunk("c", 0, "wrong width")], unit(1, 0, 0, 0)[None, :])
    with pytest.raises(StoreError, match="open collection"):
        ChromaStore.persistent(tmp_path, "x")


@pytest.mark.integration
def test_an_unreachable_chroma_server_is_a_store_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreError, match="connect"):
        ChromaStore.http("127.0.0.1", port, "test_kb")


@pytest.mark.integration
def test_chroma_revision_notices_writes_by_another_client(tmp_path: Path) -> None:
    reader = ChromaStore.persistent(tmp_path, "test_kb")
    before = reader.revision
    fill(ChromaStore.persistent(tmp_path, "test_kb"))

    assert reader.revision > before
    assert reader.count() == 3


@pytest.mark.integration
def test_chroma_revision_notices_a_rewrite_that_keeps_the_count(tmp_path: Path) -> None:
    writer, reader = (ChromaStore.persistent(tmp_path, "test_kb") for _ in range(2))
    fill(writer)
    before = reader.revision

    writer.upsert([make_chunk("b", 0, "beta rewritten", "payments")], unit(0, 1, 0)[None, :])

    assert reader.count() == 3
    assert reader.revision > before
    assert reader.revision == reader.revision  # unchanged while nobody writes


@pytest.mark.integration
def test_chroma_writes_keep_the_cosine_space(tmp_path: Path) -> None:
    """The version replaces the collection's metadata; the distance stays cosine."""
    store = ChromaStore.persistent(tmp_path, "test_kb")
    fill(store)
    store.delete_articles(["b"])

    reopened = ChromaStore.persistent(tmp_path, "test_kb")
    assert [round(s, 3) for _, s in reopened.query(unit(1, 0, 0), 2)] == [1.0, 0.707]


@pytest.mark.integration
def test_chroma_reads_every_chunk_a_page_at_a_time(tmp_path: Path) -> None:
    """One get of a whole collection fails on a Chroma server at 100,000 chunks; pages do not,
    and every chunk and hash is read once whatever the page size."""
    opened = ChromaStore.persistent(tmp_path, "test_kb")
    chunks = [make_chunk(f"art{n % 4}", n, f"text {n}") for n in range(11)]
    opened.upsert(chunks, np.vstack([unit(1, n + 1) for n in range(11)]))
    paged = ChromaStore(opened._client, opened._collection, page=3)

    assert [c.id for c in paged.chunks()] == [c.id for c in opened.chunks()]
    assert len(paged.chunks()) == 11
    assert paged.article_hashes() == {f"art{n}": f"hash-art{n}" for n in range(4)}


def test_the_search_breadth_is_set_when_the_collection_opens_and_kept(tmp_path: Path) -> None:
    """``search_ef`` goes into the collection's configuration: a process that opens the
    collection without one searches with the breadth it holds, and a new one replaces it."""
    assert ChromaStore.persistent(tmp_path, "test_kb").search_ef() == 100  # Chroma's own
    assert ChromaStore.persistent(tmp_path, "test_kb", search_ef=250).search_ef() == 250
    assert ChromaStore.persistent(tmp_path, "test_kb").search_ef() == 250
    assert ChromaStore.persistent(tmp_path, "test_kb", search_ef=40).search_ef() == 40
