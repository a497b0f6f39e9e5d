"""The lexical leg of retrieval: BM25 over chunks, held in process or kept in a database.

Two legs answer the same questions with the same scores (Lucene's BM25, k1 1.5, b 0.75, over the
same tokens):

* :class:`MemoryLexical` indexes every chunk of a store in process (``bm25s``) and rebuilds when
  the store's revision moves: right for one process and a help center of thousands of chunks;
  every replica holds the whole index and re-reads every chunk after any write.
* :class:`SqlLexical` keeps postings, document frequencies and totals in tables (PostgreSQL, shared
  by every replica, or SQLite), written in the same call as the vector store through
  :class:`MirroredStore`: a write through one replica is in every other's next search, and no
  process holds or rebuilds an index.
"""

from __future__ import annotations

import math
import re
import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self, TypeVar

import bm25s
import numpy as np
import psycopg
import Stemmer
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    create_engine,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateIndex, CreateTable

from core.errors import StoreError
from knowledge_base.articles import Chunk
from knowledge_base.store import Vector, VectorStore, chunk_order

_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN)
_STEMMER = Stemmer.Stemmer("english")

# bm25s's defaults (method "lucene"), which the in-process leg uses: the SQL leg scores the same.
K1 = 1.5
B = 0.75
T = TypeVar("T")


def tokenize(text: str) -> list[str]:
    """Lower-cased English-stemmed words, stopwords dropped."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return list(_STEMMER.stemWords(words))


def idf(document_frequency: int, documents: int) -> float:
    """Lucene's BM25 inverse document frequency (what bm25s computes)."""
    return math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The indices of the ``k`` highest scores, highest first, ties in index order: what a
    stable sort of every score gives, without sorting them all (a partition finds the k-th
    score, and only the scores at or above it are sorted: over 1M scores, 31 ms instead of
    496 ms for the top 50, measured on the shared 2 cores)."""
    n = len(scores)
    if k >= n:
        return np.argsort(-scores, kind="stable")[:k]
    kth = np.partition(scores, n - k)[n - k]
    candidates = np.flatnonzero(scores >= kth)
    return candidates[np.argsort(-scores[candidates], kind="stable")][:k]


class LexicalIndex:
    """BM25 over chunks (title, section and text), in memory."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self._chunks = list(chunks)
        self._issue_types = np.array([c.issue_type for c in self._chunks])
        self.chunks: tuple[Chunk, ...] = tuple(self._chunks)
        self._bm25 = bm25s.BM25(k1=K1, b=B)
        if self._chunks:
            tokens = [tokenize(c.embedding_text) for c in self._chunks]
            self._bm25.index(tokens, show_progress=False)

    def query(
        self, text: str, k: int, *, issue_type: str | None = None
    ) -> list[tuple[Chunk, float]]:
        """The ``k`` best-scoring chunks that share at least one word with ``text``."""
        if not self._chunks:
            return []
        vocab = self._bm25.vocab_dict
        tokens = [t for t in tokenize(text) if t in vocab]
        if not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
        if issue_type is not None:
            scores[self._issue_types != issue_type] = 0.0
        top = top_k(scores, k)
        return [(self._chunks[i], float(scores[i])) for i in top if scores[i] > 0]


class LexicalLeg(ABC):
    """What hybrid search asks of the lexical side: a ranking, and chunks to widen hits with."""

    @abstractmethod
    def query(
        self, text: str, k: int, *, issue_type: str | None = None
    ) -> list[tuple[Chunk, float]]:
        """The ``k`` best BM25 chunks for ``text``, best first, each sharing a word with it."""

    @abstractmethod
    def chunks(self, article_ids: Collection[str] | None = None) -> list[Chunk]:
        """Every chunk (or only these articles'), ordered by article then position."""


class MemoryLexical(LexicalLeg):
    """A :class:`LexicalIndex` of every chunk of ``store``, rebuilt when its revision moves."""

    def __init__(self, store: VectorStore) -> None:
        self.store = store
        self._index: tuple[int, LexicalIndex] | None = None
        self._lock = threading.Lock()

    def index(self) -> LexicalIndex:
        with self._lock:
            revision = self.store.revision
            if self._index is None or self._index[0] != revision:
                self._index = (revision, LexicalIndex(self.store.chunks()))
            return self._index[1]

    def query(
        self, text: str, k: int, *, issue_type: str | None = None
    ) -> list[tuple[Chunk, float]]:
        return self.index().query(text, k, issue_type=issue_type)

    def chunks(self, article_ids: Collection[str] | None = None) -> list[Chunk]:
        every = self.index().chunks
        if article_ids is None:
            return list(every)
        wanted = set(article_ids)
        return [c for c in every if c.article_id in wanted]


_schema = MetaData()
_chunks = Table(
    "kb_lexical_chunks",
    _schema,
    Column("id", String, primary_key=True),
    Column("article_id", String, nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("section", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("issue_type", String, nullable=False),
    Column("updated", String, nullable=False),
    Column("content_hash", String, nullable=False),
    Column("length", Integer, nullable=False),
)
# One row per (term, chunk): the chunk's length and issue type are kept on it, so that scoring
# a term reads its postings alone (an index range, no lookup per chunk).
_postings = Table(
    "kb_lexical_postings",
    _schema,
    Column("term", String, primary_key=True),
    Column("chunk_id", String, primary_key=True, index=True),
    Column("tf", Integer, nullable=False),
    Column("length", Integer, nullable=False),
    Column("issue_type", String, nullable=False),
)
_terms = Table(
    "kb_lexical_terms",
    _schema,
    Column("term", String, primary_key=True),
    Column("df", BigInteger, nullable=False),
)
_totals = Table(
    "kb_lexical_totals",
    _schema,
    Column("id", Integer, primary_key=True),
    Column("documents", BigInteger, nullable=False),
    Column("tokens", BigInteger, nullable=False),
)
_ROW = 1  # the one row of _totals
_CREATE_LOCK = 0x7E7E1E  # the advisory lock the creation of the tables is taken under
_BATCH = 2000  # rows per INSERT: well under SQLite's and psycopg's parameter limits


def _batches(rows: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), _BATCH):
        yield rows[start : start + _BATCH]


def _insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Rows into ``table`` inside the connection's transaction: PostgreSQL's COPY (several
    times faster than INSERTs for the ~30 postings of every chunk), else batched INSERTs."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        for batch in _batches(rows):
            conn.execute(insert(table), batch)
        return
    columns = list(table.columns.keys())
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    raw = conn.connection.driver_connection
    if raw is None:
        raise StoreError("the lexical index lost its database connection")
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


def _create_tables(conn: Connection) -> None:
    """The tables and the totals row, unless another process made them first: replicas starting
    at once take turns (PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a
    concurrent one: a unique violation in pg_type; SQLite's is)."""
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_LOCK})
    for table in _schema.sorted_tables:
        conn.execute(CreateTable(table, if_not_exists=True))
        for index in table.indexes:
            conn.execute(CreateIndex(index, if_not_exists=True))
    first = (pg_insert if postgres else sqlite_insert)(_totals)
    conn.execute(first.values(id=_ROW, documents=0, tokens=0).on_conflict_do_nothing())


class SqlLexical(LexicalLeg):
    """BM25 kept in SQL tables: postings, document frequencies and the corpus totals.

    Written through :class:`MirroredStore` in one transaction per call (the totals row is
    updated in it, so two writers take turns on it); read per query with the same Lucene BM25
    as :class:`LexicalIndex`. The tables are created on first use.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        with self._failing("create its tables"), engine.begin() as conn:
            _create_tables(conn)

    @classmethod
    def connect(cls, url: str) -> Self:
        return cls(create_engine(url, pool_pre_ping=True))

    def close(self) -> None:
        """Close the pooled connections."""
        self._engine.dispose()

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def drop(self) -> None:
        """Remove the tables and everything in them."""
        with self._failing("drop its tables"):
            _schema.drop_all(self._engine)

    def size_bytes(self) -> int:
        """Bytes the tables take on disk: PostgreSQL's relation sizes with their indexes, or the
        whole SQLite file."""
        with self._failing("measure its tables"), self._engine.connect() as conn:
            if self.dialect == "postgresql":
                sizes = (
                    func.pg_total_relation_size(literal(t.name)) for t in _schema.tables.values()
                )
                return int(conn.execute(select(sum(sizes, literal(0)))).scalar_one())
            database = self._engine.url.database
            return Path(database).stat().st_size if database else 0

    @contextmanager
    def _failing(self, action: str) -> Iterator[None]:
        try:
            yield
        except (SQLAlchemyError, psycopg.Error) as exc:  # psycopg's own from COPY
            raise StoreError(f"the lexical index failed to {action}: {exc}") from exc

    # -- writes ---------------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk]) -> None:
        """Insert or replace these chunks by id, in one transaction (in batches of rows)."""
        with self._failing("write chunks"), self._engine.begin() as conn:
            for batch in _batches(chunks):
                self._write(conn, batch)

    def _write(self, conn: Connection, chunks: Sequence[Chunk]) -> None:
        tokens = {c.id: Counter(tokenize(c.embedding_text)) for c in chunks}
        self._remove(conn, _chunks.c.id.in_(list(tokens)))
        _insert(conn, _chunks, [self._chunk_row(c, tokens[c.id]) for c in chunks])
        postings = [
            {
                "term": term,
                "chunk_id": c.id,
                "tf": n,
                "length": tokens[c.id].total(),
                "issue_type": c.issue_type,
            }
            for c in chunks
            for term, n in tokens[c.id].items()
        ]
        _insert(conn, _postings, postings)
        self._count(conn, Counter(t for counts in tokens.values() for t in counts), sign=1)
        self._total(conn, len(chunks), sum(t.total() for t in tokens.values()))

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        with self._failing("delete articles"), self._engine.begin() as conn:
            for batch in _batches(article_ids):
                self._remove(conn, _chunks.c.article_id.in_(list(batch)))

    @staticmethod
    def _chunk_row(chunk: Chunk, tokens: Counter[str]) -> dict[str, Any]:
        return {**chunk.model_dump(), "position": chunk_order(chunk)[1], "length": tokens.total()}

    def _remove(self, conn: Connection, where: Any) -> None:
        """Delete the chunks ``where`` selects, their postings, and their share of the counts."""
        doomed = select(_chunks.c.id).where(where)
        documents, tokens = conn.execute(
            select(func.count(), func.coalesce(func.sum(_chunks.c.length), 0)).where(where)
        ).one()
        if not documents:
            return
        terms = conn.execute(
            select(_postings.c.term, func.count())
            .where(_postings.c.chunk_id.in_(doomed))
            .group_by(_postings.c.term)
        ).all()
        conn.execute(delete(_postings).where(_postings.c.chunk_id.in_(doomed)))
        conn.execute(delete(_chunks).where(where))
        self._count(conn, Counter({term: n for term, n in terms}), sign=-1)
        self._total(conn, -documents, -tokens)

    @staticmethod
    def _count(conn: Connection, terms: Counter[str], *, sign: int) -> None:
        """Move document frequencies by ``sign`` times these counts: one upsert, terms in sorted
        order (two writers lock rows in the same order, so they cannot deadlock)."""
        if not terms:
            return
        upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        for batch in _batches([{"term": t, "df": sign * terms[t]} for t in sorted(terms)]):
            statement = upsert(_terms).values(batch)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[_terms.c.term], set_={"df": _terms.c.df + statement.excluded.df}
                )
            )
        if sign < 0:
            conn.execute(delete(_terms).where(_terms.c.df <= 0))

    @staticmethod
    def _total(conn: Connection, documents: int, tokens: int) -> None:
        conn.execute(
            update(_totals)
            .where(_totals.c.id == _ROW)
            .values(documents=_totals.c.documents + documents, tokens=_totals.c.tokens + tokens)
        )

    # -- reads ----------------------------------------------------------------------------------

    def article_hashes(self) -> dict[str, str]:
        with self._failing("read article hashes"), self._engine.connect() as conn:
            rows = conn.execute(select(_chunks.c.article_id, _chunks.c.content_hash).distinct())
            return {article: digest for article, digest in rows}

    def is_ready(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(select(literal(1)))
        except SQLAlchemyError:
            return False
        return True

    def query(
        self, text: str, k: int, *, issue_type: str | None = None
    ) -> list[tuple[Chunk, float]]:
        asked = Counter(tokenize(text))
        if not asked or k <= 0:
            return []
        with self._failing("search"), self._engine.connect() as conn:
            documents, tokens = conn.execute(
                select(_totals.c.documents, _totals.c.tokens).where(_totals.c.id == _ROW)
            ).one()
            df = dict(
                conn.execute(
                    select(_terms.c.term, _terms.c.df).where(_terms.c.term.in_(asked))
                ).all()
            )
            if not documents or not df:
                return []
            # A term asked twice counts twice, as in bm25s.
            weights = {t: asked[t] * idf(n, documents) for t, n in df.items()}
            ranked = self._ranked(conn, weights, tokens / documents, k, issue_type).all()
            found = self._by_id(conn, [chunk_id for chunk_id, _ in ranked])
        return [(found[chunk_id], float(score)) for chunk_id, score in ranked if score > 0]

    @staticmethod
    def _ranked(
        conn: Connection,
        weights: dict[str, float],
        average_length: float,
        k: int,
        issue_type: str | None,
    ) -> Any:
        weight = case(
            *((_postings.c.term == term, literal(w, Float)) for term, w in weights.items()),
            else_=literal(0.0, Float),
        )
        tf = _postings.c.tf * 1.0
        norm = K1 * ((1 - B) + B * _postings.c.length / literal(average_length, Float))
        score = func.sum(weight * tf / (norm + tf)).label("score")
        query = select(_postings.c.chunk_id, score).where(_postings.c.term.in_(list(weights)))
        if issue_type is not None:
            query = query.where(_postings.c.issue_type == issue_type)
        query = query.group_by(_postings.c.chunk_id).order_by(score.desc(), _postings.c.chunk_id)
        return conn.execute(query.limit(k))

    @staticmethod
    def _by_id(conn: Connection, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        rows = conn.execute(select(_chunks).where(_chunks.c.id.in_(list(chunk_ids))))
        return {row.id: _chunk(row) for row in rows}

    def chunks(self, article_ids: Collection[str] | None = None) -> list[Chunk]:
        query = select(_chunks).order_by(_chunks.c.article_id, _chunks.c.position)
        if article_ids is not None:
            query = query.where(_chunks.c.article_id.in_(list(article_ids)))
        with self._failing("read chunks"), self._engine.connect() as conn:
            return [_chunk(row) for row in conn.execute(query)]

    def count(self) -> int:
        with self._failing("count chunks"), self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(_chunks)).scalar_one())


def _chunk(row: Any) -> Chunk:
    """A chunk from its row (the row also holds its position and token count)."""
    return Chunk.model_validate({field: row._mapping[field] for field in Chunk.model_fields})


class MirroredStore(VectorStore):
    """A vector store whose every write also goes to a :class:`SqlLexical`: what ingest and the
    knowledge-base jobs write through when the lexical leg lives in the database.

    An article counts as stored only where both sides hold the same content hash, so a write
    that reached one side and failed on the other is written again by the next ingest.
    """

    def __init__(self, vectors: VectorStore, lexical: SqlLexical) -> None:
        self.vectors = vectors
        self.lexical = lexical

    def upsert(self, chunks: Sequence[Chunk], vectors: Vector) -> None:
        self.vectors.upsert(chunks, vectors)
        self.lexical.upsert(chunks)

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        self.vectors.delete_articles(article_ids)
        self.lexical.delete_articles(article_ids)

    def query(
        self, vector: Vector, k: int, *, issue_type: str | None = None
    ) -> list[tuple[Chunk, float]]:
        return self.vectors.query(vector, k, issue_type=issue_type)

    def similarities(self, vector: Vector, chunk_ids: Sequence[str]) -> dict[str, float]:
        return self.vectors.similarities(vector, chunk_ids)

    def chunks(self) -> list[Chunk]:
        return self.vectors.chunks()

    def article_hashes(self) -> dict[str, str]:
        """What both sides hold alike; an article the two sides disagree on (a write that failed
        half-way) has an empty hash, which no article has: ingest writes it again or removes it."""
        vectors, lexical = self.vectors.article_hashes(), self.lexical.article_hashes()
        return {
            a: vectors[a] if vectors.get(a) == lexical.get(a) else "" for a in {*vectors, *lexical}
        }

    def count(self) -> int:
        return self.vectors.count()

    def is_ready(self) -> bool:
        return self.vectors.is_ready() and self.lexical.is_ready()

    @property
    def revision(self) -> int:
        return self.vectors.revision
