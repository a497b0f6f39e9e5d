"""The scale benchmark's measurements: ingest, the dense leg, the lexical leg, hybrid search."""

from __future__ import annotations

import gc
import resource
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # with scikit-learn

from core.embeddings import Embedder, Vectors
from core.errors import StoreError
from evals.scale.corpus import Corpus, base_articles, build_corpus, queries, sample_texts
from evals.scale.server import ChromaServer, chroma_server
from evals.scale.vectors import (
    RecordingEmbedder,
    SyntheticEmbedder,
    exact_top_k,
    near,
    recall_at_k,
)
from knowledge_base.articles import Chunk
from knowledge_base.ingest import ingest
from knowledge_base.lexical import LexicalIndex, LexicalLeg, MirroredStore, SqlLexical
from knowledge_base.search import LEG_DEPTH, HybridSearcher
from knowledge_base.store import ChromaStore, InMemoryStore, VectorStore

StoreKind = Literal["embedded", "http", "server", "memory"]
VectorKind = Literal["minilm", "synthetic"]
LexicalKind = Literal["memory", "database"]
Figures = dict[str, float | int | str]

T = TypeVar("T")
R = TypeVar("R")

K = 10
HYBRID_K = 6  # retrieval_k, as the message path asks (assistant/pipeline/settings.py)
RAW_SAMPLE = 2000


def _ms(laps: Sequence[float], q: float) -> float:
    return round(float(np.percentile(laps, q)) * 1000, 2) if laps else 0.0


def _timed(call: Callable[[T], R], items: Iterable[T]) -> tuple[list[R], list[float]]:
    """``call`` on each item in turn: the results and the seconds each took."""
    results, laps = [], []
    for item in items:
        start = time.perf_counter()
        results.append(call(item))
        laps.append(time.perf_counter() - start)
    return results, laps


def _latency(name: str, laps: Sequence[float]) -> Figures:
    return {f"{name}_ms_p50": _ms(laps, 50), f"{name}_ms_p95": _ms(laps, 95)}


def _folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


@dataclass
class OpenStore:
    """A fresh store, what it is, its folder (embedded or a server of this run's own) and, for a
    server of this run's own, the server (restarted to load a new search breadth)."""

    store: VectorStore
    where: str
    folder: Path | None = None
    server: ChromaServer | None = None


@contextmanager
def open_store(kind: StoreKind, *, host: str, port: int) -> Iterator[OpenStore]:
    """A fresh, empty store; removed afterwards."""
    name = f"scale-{uuid.uuid4().hex[:8]}"
    if kind == "memory":
        yield OpenStore(InMemoryStore(), "in-memory store (exact)")
    elif kind == "embedded":
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "chroma"
            yield OpenStore(ChromaStore.persistent(folder, name), "embedded Chroma", folder)
    elif kind == "server":
        with tempfile.TemporaryDirectory() as tmp, chroma_server(Path(tmp) / "chroma") as server:
            store = ChromaStore.http("127.0.0.1", server.port, name)
            where = f"Chroma server of this run (chroma run, 127.0.0.1:{server.port})"
            yield OpenStore(store, where, server.folder, server)
    else:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        try:
            yield OpenStore(ChromaStore.http(host, port, name), f"Chroma server {host}:{port}")
        finally:
            client = chromadb.HttpClient(
                host=host, port=port, settings=ChromaSettings(anonymized_telemetry=False)
            )
            client.delete_collection(name)


class TimedLexical(SqlLexical):
    """The database's lexical leg, timing its writes (ingest's share spent on them)."""

    seconds = 0.0

    def upsert(self, chunks: Sequence[Chunk]) -> None:
        start = time.perf_counter()
        super().upsert(chunks)
        self.seconds += time.perf_counter() - start


@contextmanager
def mirrored(store: VectorStore, database_url: str) -> Iterator[tuple[MirroredStore, TimedLexical]]:
    """``store`` mirrored into fresh lexical tables of ``database_url``, dropped afterwards."""
    lexical = TimedLexical.connect(database_url)
    if lexical.count():
        lexical.close()
        raise StoreError(
            f"the lexical tables of {database_url} are not empty: use a fresh database"
        )
    try:
        yield MirroredStore(store, lexical), lexical
    finally:
        lexical.drop()
        lexical.close()


def _encode_rate(embedder: Embedder, texts: Sequence[str]) -> float:
    start = time.perf_counter()
    embedder.embed_batch(texts)
    return len(texts) / (time.perf_counter() - start)


def measure_ingest(
    corpus: Corpus, store: VectorStore, embedder: Embedder, *, raw_sample: int
) -> tuple[Figures, RecordingEmbedder]:
    """Ingest through the product's path; with a model, raw ``embed_batch`` of a sample (one
    call over every text: the model's own batching and length sorting) just before and just
    after it, compared with their mean (the load of shared cores drifts)."""
    figures: Figures = {}
    texts: list[str] = []
    raw: list[float] = []
    if not isinstance(embedder, SyntheticEmbedder):
        texts = sample_texts(corpus, min(raw_sample, corpus.chunks))
        embedder.embed_batch(texts[:32])  # warm
        raw.append(_encode_rate(embedder, texts))
    recording = RecordingEmbedder(embedder)
    start = time.perf_counter()
    ingest(corpus.articles, store=store, embedder=recording, progress=False)
    seconds = time.perf_counter() - start
    rate = corpus.chunks / seconds
    figures |= {
        "ingest_s": round(seconds, 1),
        "ingest_chunks_per_s": round(rate, 1),
        "ingest_embed_s": round(recording.seconds, 1),
        "ingest_other_s": round(seconds - recording.seconds, 1),
    }
    if texts:
        raw.append(_encode_rate(embedder, texts))
        figures |= {
            "raw_encode_texts": len(texts),
            "raw_encode_before_chunks_per_s": round(raw[0], 1),
            "raw_encode_after_chunks_per_s": round(raw[1], 1),
            "raw_encode_chunks_per_s": round(float(np.mean(raw)), 1),
            "ingest_vs_raw": round(rate / float(np.mean(raw)), 3),
        }
    return figures, recording


def measure_dense(
    store: VectorStore,
    matrix: Vectors,
    ids: Sequence[str],
    query_vectors: Vectors,
) -> Figures:
    """The store's top ``K`` against brute force over the same vectors: latency and recall."""
    row_of = {chunk_id: row for row, chunk_id in enumerate(ids)}
    store.query(query_vectors[0], K)  # warm
    hits, laps = _timed(lambda vector: store.query(vector, K), query_vectors)
    found = [[row_of[chunk.id] for chunk, _ in hit] for hit in hits]
    # One BLAS thread: on shared, loaded cores a threaded product of one query took 12 ms for
    # 3,000 rows against 0.14 ms on one thread (threads waiting for each other).
    with threadpool_limits(limits=1, user_api="blas"):
        _, exact_laps = _timed(lambda v: exact_top_k(matrix, v[None, :], K), query_vectors)
        _, exact_scores = exact_top_k(matrix, query_vectors, K)
    recall = recall_at_k(found, exact_scores, matrix, query_vectors)
    return (
        _latency("dense", laps)
        | {"dense_recall_at_10": round(recall, 4)}
        | _latency("exact", exact_laps)
    )


def measure_lexical(store: VectorStore, questions: Sequence[str]) -> Figures:
    """The in-process BM25 leg as every replica holds it: every chunk read from the store, then
    indexed. Timed once untraced; memory from a second pass under tracemalloc (what Python and
    numpy hold afterwards, and the peak while building)."""
    start = time.perf_counter()
    chunks = store.chunks()
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    index = LexicalIndex(chunks)
    build_s = time.perf_counter() - start
    _, laps = _timed(partial(index.query, k=LEG_DEPTH), questions)
    del index, chunks
    gc.collect()
    tracemalloc.start()
    chunks = store.chunks()
    held_chunks = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    index = LexicalIndex(chunks)
    held_all, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del index, chunks
    return {
        "lexical_read_chunks_s": round(read_s, 2),
        "lexical_chunks_mb": round(held_chunks / 1e6, 1),
        "lexical_build_s": round(build_s, 2),
        "lexical_index_mb": round((held_all - held_chunks) / 1e6, 1),
        "lexical_build_peak_mb": round((peak - held_chunks) / 1e6, 1),
    } | _latency("lexical", laps)


def measure_sql_lexical(lexical: TimedLexical, questions: Sequence[str]) -> Figures:
    """The database's lexical leg: what its writes cost inside ingest, its tables' size, and
    each query's time (postings read and scored in the database; this process holds no index)."""
    lexical.query(questions[0], LEG_DEPTH)  # warm
    _, laps = _timed(lambda question: lexical.query(question, LEG_DEPTH), questions)
    return {
        "lexical_db_write_s": round(lexical.seconds, 3),
        "lexical_db_tables_mb": round(lexical.size_bytes() / 1e6, 3),
    } | _latency("lexical_db", laps)


def measure_hybrid(
    store: VectorStore,
    embedder: Embedder,
    questions: Sequence[str],
    lexical: LexicalLeg | None = None,
) -> Figures:
    """``HybridSearcher.search`` as the message path calls it; the first search (in process)
    reads every chunk and builds the lexical index, as a fresh process (or one after a write)
    does."""
    timed = RecordingEmbedder(embedder)
    searcher = HybridSearcher(store, timed, lexical=lexical)
    start = time.perf_counter()
    searcher.search(questions[0], HYBRID_K)
    first = time.perf_counter() - start
    timed.seconds = 0.0
    _, laps = _timed(lambda question: searcher.search(question, HYBRID_K), questions)
    return {
        "hybrid_first_search_s": round(first, 2),
        **_latency("hybrid", laps),
        "hybrid_embed_ms_mean": round(timed.seconds / len(questions) * 1000, 2),
    }


def measure_search_ef(
    opened: OpenStore,
    efs: Sequence[int],
    matrix: Vectors,
    ids: Sequence[str],
    query_vectors: Vectors,
) -> Figures:
    """The dense leg again at each HNSW search breadth (``ef_search``, set on the collection),
    the same queries against the same exact neighbours: what recall costs in latency. The server
    is restarted after each change: Chroma reads the breadth when it loads the index."""
    store, server = opened.store, opened.server
    if not isinstance(store, ChromaStore) or server is None:
        raise StoreError("ef_search is measured on a server of the run's own: --chroma server")
    figures: Figures = {}
    for ef in efs:
        store.set_search_ef(ef)
        server.restart()
        if store.search_ef() != ef:
            raise StoreError(f"the collection holds ef_search {store.search_ef()}, not {ef}")
        dense = measure_dense(store, matrix, ids, query_vectors)
        figures |= {
            f"dense_ef{ef}_{key.removeprefix('dense_')}": value
            for key, value in dense.items()
            if key.startswith("dense_")
        }
    return figures


def _attempt(name: str, measure: Callable[[], Figures]) -> Figures:
    try:
        return measure()
    except (StoreError, MemoryError) as exc:
        return {f"{name}_error": f"{type(exc).__name__}: {exc}"[:300]}


def run(
    chunks: int,
    *,
    store_kind: StoreKind = "embedded",
    vectors: VectorKind = "minilm",
    n_queries: int = 200,
    host: str = "127.0.0.1",
    port: int = 8000,
    seed: int = 0,
    raw_sample: int = RAW_SAMPLE,
    embedder: Embedder | None = None,
    lexical: LexicalKind = "memory",
    database_url: str = "",
    search_efs: Sequence[int] = (),
    dense_only: bool = False,
) -> Figures:
    """Every figure of the benchmark at ``chunks`` chunks (``embedder`` replaces MiniLM, for
    tests); with ``lexical="database"`` the lexical leg is tables in ``database_url``, written
    with the store by ingest, instead of an index built in this process; ``search_efs`` measures
    the dense leg again at each HNSW search breadth; ``dense_only`` skips the lexical and hybrid
    figures."""
    start = time.perf_counter()
    corpus = build_corpus(base_articles(), chunks, seed=seed)
    questions = queries(n_queries, seed=seed)
    figures: Figures = {
        "chunks": corpus.chunks,
        "articles": len(corpus.articles),
        "repetitions": corpus.repetitions,
        "vectors": vectors,
        "store": store_kind,
        "queries": n_queries,
        "lexical": lexical,
        "corpus_s": round(time.perf_counter() - start, 1),
    }
    if embedder is None:
        if vectors == "synthetic":
            embedder = SyntheticEmbedder()
        else:
            from core.embeddings import MiniLMEmbedder

            embedder = MiniLMEmbedder()
    with ExitStack() as stack:
        opened = stack.enter_context(open_store(store_kind, host=host, port=port))
        store, where, folder = opened.store, opened.where, opened.folder
        figures["where"] = where
        sql: TimedLexical | None = None
        if lexical == "database":
            store, sql = stack.enter_context(mirrored(store, database_url))
            figures["where"] = f"{where}, lexical leg in {sql.dialect}"
        ingested, recording = measure_ingest(corpus, store, embedder, raw_sample=raw_sample)
        figures |= ingested
        if folder is not None:
            figures["store_disk_mb"] = _folder_mb(folder)
        matrix, ids = recording.matrix(), corpus.chunk_ids()
        del recording
        if len(ids) != len(matrix) or store.count() != len(ids):
            raise StoreError(
                f"{len(ids)} chunks in the corpus, {len(matrix)} embedded, {store.count()} stored"
            )
        if vectors == "synthetic":
            query_vectors = near(matrix, n_queries, seed=seed)
        else:
            query_vectors = embedder.embed_batch(questions)
        figures |= measure_dense(store, matrix, ids, query_vectors)
        if search_efs:
            figures |= measure_search_ef(opened, search_efs, matrix, ids, query_vectors)
        del matrix, ids
        if dense_only:
            figures["peak_rss_mb"] = _peak_rss_mb()
            return figures
        # The in-process leg reads every chunk: past some size that fails, and the rest of the
        # figures are still worth having, so a failure is recorded, not raised.
        figures |= _attempt("lexical", lambda: measure_lexical(store, questions))
        figures |= _attempt("hybrid", lambda: measure_hybrid(store, embedder, questions))
        if sql is not None:  # the same questions, the leg in the database, in the same run
            figures |= measure_sql_lexical(sql, questions)
            hybrid = measure_hybrid(store, embedder, questions, lexical=sql)
            figures |= {
                key.replace("hybrid_", "hybrid_db_"): value for key, value in hybrid.items()
            }
    figures["peak_rss_mb"] = _peak_rss_mb()
    return figures


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1)
