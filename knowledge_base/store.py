"""The vector-store seam, an in-memory implementation and the Chroma adapter.

Vectors are L2-normalised rows, so cosine similarity is a dot product; scores are higher-better.
"""

from __future__ import annotations

import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

import chromadb
import httpx
import numpy as np
import numpy.typing as npt
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import GetResult, Include, Where
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from core.errors import StoreError
from knowledge_base.articles import Chunk

Vector = npt.NDArray[np.float32]
T = TypeVar("T")


def chunk_order(chunk: Chunk) -> tuple[str, int]:
    """Sort key: article, then position inside the article."""
    _, _, n = chunk.id.rpartition("#")
    return chunk.article_id, int(n) if n.isdigit() else 0


class VectorStore(ABC):
    """Chunks with their vectors; every write increases ``revision``."""

    @abstractmethod
    def upsert(self, chunks: Sequence[Chunk], vectors: Vector) -> None:
        """Insert or replace chunks by id, one vector row per chunk."""

    @abstractmethod
    def delete_articles(self, article_ids: Sequence[str]) -> None:
        """Remove every chunk of these articles."""

    @abstractmethod
    def query(
        self, vector: Vector, k: int, *, issue_type: str | None = None
    ) -> list[tuple[Chunk, float]]:
        """The ``k`` chunks most cosine-similar to ``vector``, best first."""

    @abstractmethod
    def similarities(self, vector: Vector, chunk_ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of ``vector`` to each of these chunks (unknown ids are left out)."""

    @abstractmethod
    def chunks(self) -> list[Chunk]:
        """Every stored chunk, ordered by article then position."""

    @abstractmethod
    def article_hashes(self) -> dict[str, str]:
        """Article id -> content hash of what is stored for it."""

    @abstractmethod
    def count(self) -> int:
        """Number of stored chunks."""

    @abstractmethod
    def is_ready(self) -> bool:
        """Whether the store answers; never raises."""

    @property
    @abstractmethod
    def revision(self) -> int:
        """A number that changes whenever the stored chunks change."""


def _check_shapes(chunks: Sequence[Chunk], vectors: Vector) -> None:
    if vectors.ndim != 2 or len(chunks) != vectors.shape[0]:
        raise ValueError(f"{len(chunks)} chunks but vectors of shape {vectors.shape}")


class InMemoryStore(VectorStore):
    """A numpy store: exact cosine search over every chunk. Used by unit tests and small demos."""

    def __init__(self) -> None:
        self._chunks: dict[str, Chunk] = {}
        self._vectors: dict[str, Vector] = {}
        self._revision = 0
        self._matrix: tuple[int, list[Chunk], Vector] | None = None

    def upsert(self, chunks: Sequence[Chunk], vectors: Vector) -> None:
        _check_shapes(chunks, vectors)
        for chunk, vector in zip(chunks, vectors, strict=True):
            self._chunks[chunk.id] = chunk
            self._vectors[chunk.id] = np.asarray(vector, dtype=np.float32)
        self._revision += 1

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        doomed = set(article_ids)
        if not doomed:
            return
        for chunk_id in [c.id for c in self._chunks.values() if c.article_id in doomed]:
            del self._chunks[chunk_id], self._vectors[chunk_id]
        self._revision += 1

    def _rows(self) -> tuple[list[Chunk], Vector]:
        if self._matrix is None or self._matrix[0] != self._revision:
            chunks = self.chunks()
            rows = [self._vectors[c.id] for c in chunks]
            matrix = np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
            self._matrix = (self._revision, chunks, matrix)
        return self._matrix[1], self._matrix[2]

    def query(
        self, vector: Vector, k: int, *, issue_type: str | None = None
    ) -> list[tuple[Chunk, float]]:
        chunks, matrix = self._rows()
        if not chunks:
            return []
        scores = matrix @ np.asarray(vector, dtype=np.float32)
        if issue_type is not None:
            scores[[c.issue_type != issue_type for c in chunks]] = -np.inf
        top = np.argsort(-scores, kind="stable")[:k]
        return [(chunks[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def similarities(self, vector: Vector, chunk_ids: Sequence[str]) -> dict[str, float]:
        return {
            i: float(self._vectors[i] @ np.asarray(vector, dtype=np.float32))
            for i in chunk_ids
            if i in self._vectors
        }

    def chunks(self) -> list[Chunk]:
        return sorted(self._chunks.values(), key=chunk_order)

    def article_hashes(self) -> dict[str, str]:
        return {c.article_id: c.content_hash for c in self._chunks.values()}

    def count(self) -> int:
        return len(self._chunks)

    def is_ready(self) -> bool:
        return True

    @property
    def revision(self) -> int:
        return self._revision


# What Chroma raises: its own errors, ValueError for bad input or no server, httpx errors over HTTP.
_CHROMA_FAILURES = (ChromaError, ValueError, RuntimeError, OSError, httpx.HTTPError)


@contextmanager
def _translated(action: str) -> Iterator[None]:
    try:
        yield
    except _CHROMA_FAILURES as exc:
        raise StoreError(f"Chroma failed to {action}: {exc}") from exc


def _present(value: T | None, what: str) -> T:
    if value is None:
        raise StoreError(f"Chroma returned no {what}")
    return value


def _metadata(chunk: Chunk) -> dict[str, str]:
    return {
        "article_id": chunk.article_id,
        "title": chunk.title,
        "section": chunk.section,
        "issue_type": chunk.issue_type,
        "updated": chunk.updated,
        "content_hash": chunk.content_hash,
    }


def _chunk(chunk_id: str, meta: Mapping[str, Any], text: str | None) -> Chunk:
    return Chunk(
        id=chunk_id,
        article_id=str(meta["article_id"]),
        title=str(meta["title"]),
        section=str(meta["section"]),
        text=text or "",
        issue_type=str(meta["issue_type"]),
        updated=str(meta["updated"]),
        content_hash=str(meta["content_hash"]),
    )


# The collection's version, kept in its metadata: a new random token after every write, so that
# every process sharing the collection (replicas on one Chroma server) notices any write on its
# next read, whether or not the number of chunks moved. A token, not a counter: two processes that
# write at once need no read-modify-write, and the last token differs from every earlier one.
VERSION_KEY = "tether_version"


class ChromaStore(VectorStore):
    """Adapter over a Chroma collection. We always pass our own vectors (no Chroma embedding)."""

    def __init__(
        self, client: ClientAPI, collection: Collection, *, max_batch: int = 5000, page: int = 5000
    ) -> None:
        self._client = client
        self._collection = collection
        self._max_batch = max_batch
        self._page = page
        self._revision = 0
        self._seen_version: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def persistent(
        cls, path: Path, collection: str, *, search_ef: int | None = None
    ) -> ChromaStore:
        with _translated(f"open {path}"):
            client = chromadb.PersistentClient(
                path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
            )
        return cls._open(client, collection, search_ef)

    @classmethod
    def http(
        cls, host: str, port: int, collection: str, *, search_ef: int | None = None
    ) -> ChromaStore:
        with _translated(f"connect to {host}:{port}"):
            client = chromadb.HttpClient(
                host=host, port=port, settings=ChromaSettings(anonymized_telemetry=False)
            )
        return cls._open(client, collection, search_ef)

    @classmethod
    def _open(cls, client: ClientAPI, name: str, search_ef: int | None) -> ChromaStore:
        with _translated(f"open collection {name!r}"):
            collection = client.get_or_create_collection(
                name, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
            store = cls(client, collection, max_batch=client.get_max_batch_size())
        if search_ef is not None and store.search_ef() != search_ef:
            store.set_search_ef(search_ef)
        return store

    def search_ef(self) -> int:
        """How many candidates the HNSW search keeps while it walks the graph (Chroma's
        ``ef_search``; 100 unless set): recall against latency."""
        with _translated("read the collection's configuration"):
            found = self._client.get_collection(self._collection.name, embedding_function=None)
        hnsw = (found.configuration or {}).get("hnsw") or {}
        return int(hnsw.get("ef_search") or 100)

    def set_search_ef(self, ef: int) -> None:
        """Set ``ef_search`` on the collection (one of the settings Chroma lets a collection
        change after it is built). Chroma reads it when it loads the index: a process or server
        that has already loaded it searches with the old breadth until it loads it again."""
        with _translated("set the collection's search breadth"):
            self._collection.modify(configuration={"hnsw": {"ef_search": ef}})

    def _written(self) -> None:
        """Give the collection a new version (Chroma replaces its metadata with this; the
        distance function lives in its configuration and stays)."""
        version = uuid.uuid4().hex
        with _translated("record the write"):
            self._collection.modify(metadata={VERSION_KEY: version})
        with self._lock:
            self._seen_version = version
            self._revision += 1

    def version(self) -> str:
        """The collection's version as the server has it now: one small read (a GET of the
        collection over HTTP); empty before the first write."""
        with _translated("read the collection's version"):
            found = self._client.get_collection(self._collection.name, embedding_function=None)
        return str((found.metadata or {}).get(VERSION_KEY, ""))

    def upsert(self, chunks: Sequence[Chunk], vectors: Vector) -> None:
        _check_shapes(chunks, vectors)
        with _translated("upsert chunks"):
            for start in range(0, len(chunks), self._max_batch):
                batch = chunks[start : start + self._max_batch]
                self._collection.upsert(
                    ids=[c.id for c in batch],
                    embeddings=np.asarray(vectors[start : start + len(batch)], dtype=np.float32),
                    metadatas=[_metadata(c) for c in batch],
                    documents=[c.text for c in batch],
                )
        self._written()

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        if not article_ids:
            return
        members: dict[Literal["$in", "$nin"], list[str | int | float | bool]] = {
            "$in": [*article_ids]
        }
        with _translated("delete articles"):
            self._collection.delete(where={"article_id": members})
        self._written()

    def query(
        self, vector: Vector, k: int, *, issue_type: str | None = None
    ) -> list[tuple[Chunk, float]]:
        where: Where | None = {"issue_type": issue_type} if issue_type is not None else None
        with _translated("query"):
            found = self._collection.query(
                query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
                n_results=k,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        rows = zip(
            found["ids"][0],
            _present(found["metadatas"], "metadatas")[0],
            _present(found["documents"], "documents")[0],
            _present(found["distances"], "distances")[0],
            strict=True,
        )
        return [(_chunk(i, meta, doc), 1.0 - float(dist)) for i, meta, doc, dist in rows]

    def similarities(self, vector: Vector, chunk_ids: Sequence[str]) -> dict[str, float]:
        if not chunk_ids:
            return {}
        with _translated("read vectors"):
            found = self._collection.get(ids=list(chunk_ids), include=["embeddings"])
        matrix = np.asarray(_present(found["embeddings"], "embeddings"), dtype=np.float32)
        scores = matrix.reshape(len(found["ids"]), -1) @ np.asarray(vector, dtype=np.float32)
        return {i: float(s) for i, s in zip(found["ids"], scores, strict=True)}

    def _pages(self, include: Include, action: str) -> Iterator[GetResult]:
        """The whole collection, a page at a time: one get of every row fails on a Chroma server
        past some tens of thousands of chunks ("too many SQL variables", seen at 100,000)."""
        offset = 0
        while True:
            with _translated(action):
                page = self._collection.get(include=include, limit=self._page, offset=offset)
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

    def chunks(self) -> list[Chunk]:
        found: list[Chunk] = []
        for page in self._pages(["documents", "metadatas"], "read chunks"):
            metas = _present(page["metadatas"], "metadatas")
            rows = zip(page["ids"], metas, _present(page["documents"], "documents"), strict=True)
            found.extend(_chunk(i, meta, doc) for i, meta, doc in rows)
        return sorted(found, key=chunk_order)

    def article_hashes(self) -> dict[str, str]:
        return {
            str(m["article_id"]): str(m["content_hash"])
            for page in self._pages(["metadatas"], "read article hashes")
            for m in _present(page["metadatas"], "metadatas")
        }

    def count(self) -> int:
        with _translated("count chunks"):
            return int(self._collection.count())

    def is_ready(self) -> bool:
        try:
            self.count()
        except StoreError:
            return False
        return True

    @property
    def revision(self) -> int:
        """In-process writes, plus a bump whenever the collection's version moves (another
        process wrote: any write, even one that leaves the number of chunks as it was)."""
        version = self.version()
        with self._lock:
            if version != self._seen_version:
                self._seen_version = version
                self._revision += 1
            return self._revision
