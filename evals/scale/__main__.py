"""``python -m evals.scale --chunks N [--vectors V] [--chroma embedded|http|memory]``"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping, Sequence
from typing import cast

import evals.scale
from evals.report import table
from evals.scale.run import Figures, LexicalKind, StoreKind, VectorKind, run

# (figure, what it is, goal) in the order the table shows them
ROWS = (
    ("ingest_chunks_per_s", "ingest, chunks/s (product path)", ""),
    ("raw_encode_before_chunks_per_s", "raw MiniLM encode before ingest, chunks/s", ""),
    ("raw_encode_after_chunks_per_s", "raw MiniLM encode after ingest, chunks/s", ""),
    ("ingest_vs_raw", "ingest / raw encode (mean)", ">= 0.85"),
    ("ingest_s", "ingest, s", ""),
    ("ingest_embed_s", "  of which embedding, s", ""),
    ("ingest_other_s", "  of which chunking + store writes, s", ""),
    ("store_disk_mb", "store on disk, MB", ""),
    ("dense_ms_p50", "dense leg top-10, ms p50", ""),
    ("dense_ms_p95", "dense leg top-10, ms p95", "<= 50 at 1M"),
    ("dense_recall_at_10", "dense recall@10 vs exact", ">= 0.95 at 1M"),
    ("exact_ms_p95", "exact numpy top-10, ms p95", ""),
    ("lexical_error", "lexical in process: failed", ""),
    ("lexical_read_chunks_s", "lexical: read every chunk, s", ""),
    ("lexical_chunks_mb", "lexical: chunks held, MB", ""),
    ("lexical_build_s", "lexical: BM25 build, s", ""),
    ("lexical_index_mb", "lexical: BM25 index, MB", ""),
    ("lexical_build_peak_mb", "lexical: BM25 build peak, MB", ""),
    ("lexical_ms_p50", "lexical top-50, ms p50", ""),
    ("lexical_ms_p95", "lexical top-50, ms p95", ""),
    ("lexical_db_write_s", "lexical in the database: its writes inside ingest, s", ""),
    ("lexical_db_tables_mb", "lexical in the database: tables and indexes, MB", ""),
    ("lexical_db_ms_p50", "lexical in the database: top-50, ms p50", ""),
    ("lexical_db_ms_p95", "lexical in the database: top-50, ms p95", ""),
    ("hybrid_error", "hybrid, lexical in process: failed", ""),
    ("hybrid_first_search_s", "hybrid: first search (reads + builds), s", ""),
    ("hybrid_ms_p50", "hybrid search k=6, ms p50", ""),
    ("hybrid_ms_p95", "hybrid search k=6, ms p95", ""),
    ("hybrid_embed_ms_mean", "  of which embedding the question, ms mean", ""),
    ("hybrid_db_ms_p50", "hybrid, lexical leg in the database, ms p50", ""),
    ("hybrid_db_ms_p95", "hybrid, lexical leg in the database, ms p95", ""),
    ("peak_rss_mb", "peak resident memory, MB", ""),
)


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 1000 else f"{value:.4g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def report(figures: Mapping[str, object]) -> str:
    title = (
        f"Scale: {figures['chunks']:,} chunks ({figures['articles']:,} articles, "
        f"{figures['repetitions']} repetitions), {figures['vectors']} vectors, "
        f"{figures['where']}, {figures['queries']} queries"
    )
    rows = [(label, _value(figures[key]), goal) for key, label, goal in ROWS if key in figures]
    for key, value in figures.items():
        if by_ef := re.fullmatch(r"dense_ef(\d+)_(.+)", key):
            rows.append((f"dense at ef_search {by_ef[1]}: {by_ef[2]}", _value(value), ""))
    return table(title, rows, ("figure", "value", "goal"))


def main(argv: Sequence[str] | None = None) -> Figures:
    parser = argparse.ArgumentParser(
        description=evals.scale.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, required=True)
    parser.add_argument("--vectors", choices=("minilm", "synthetic"), default="minilm")
    parser.add_argument(
        "--chroma", choices=("embedded", "http", "server", "memory"), default="embedded"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--lexical",
        choices=("memory", "database"),
        default="memory",
        help="the BM25 leg in this process, or in the tables of --database-url",
    )
    parser.add_argument(
        "--database-url", default="", help="SQLAlchemy URL, e.g. postgresql+psycopg://..."
    )
    parser.add_argument(
        "--search-ef",
        default="",
        help="comma-separated HNSW search breadths to measure the dense leg at (Chroma only)",
    )
    parser.add_argument(
        "--dense-only", action="store_true", help="ingest and the dense leg; no lexical figures"
    )
    args = parser.parse_args(argv)
    try:
        efs = [int(ef) for ef in args.search_ef.split(",") if ef.strip()]
    except ValueError:
        parser.error(f"--search-ef takes whole numbers separated by commas, not {args.search_ef!r}")
    if efs and args.chroma != "server":
        parser.error(
            "--search-ef needs --chroma server (a server of the run's own, restarted to load"
            " each breadth: Chroma reads ef_search when it loads the index)"
        )
    figures = run(
        args.chunks,
        store_kind=cast(StoreKind, args.chroma),
        vectors=cast(VectorKind, args.vectors),
        n_queries=args.queries,
        host=args.host,
        port=args.port,
        seed=args.seed,
        lexical=cast(LexicalKind, args.lexical),
        database_url=args.database_url,
        search_efs=efs,
        dense_only=args.dense_only,
    )
    print(report(figures))
    print()
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
