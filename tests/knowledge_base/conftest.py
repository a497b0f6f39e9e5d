"""Stores for the knowledge-base tests: every contract test runs on both implementations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge_base.articles import Chunk
from knowledge_base.store import ChromaStore, InMemoryStore, VectorStore


def make_chunk(article_id: str, n: int, text: str, issue_type: str = "general") -> Chunk:
    return Chunk(
        id=f"{article_id}#{n}",
        article_id=article_id,
        title=f"Title of {article_id}",
        section="Section",
        text=text,
        issue_type=issue_type,
        updated="2026-01-01",
        content_hash=f"hash-{article_id}",
    )


@pytest.fixture(params=["memory", pytest.param("chroma", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    """The contract on the in-memory store (unit) and on Chroma on disk: real Chroma is the
    integration set's (opening it costs seconds, and what it tests is the adapter on Chroma)."""
    if request.param == "memory":
        yield InMemoryStore()
    else:
        yield ChromaStore.persistent(tmp_path / "chroma", "test_kb")
