import json
import random
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from core.embeddings import HashingEmbedder
from evals.scale.__main__ import main
from evals.scale.corpus import (
    base_articles,
    build_corpus,
    perturb,
    queries,
    sample_texts,
    variant,
)
from evals.scale.run import run
from evals.scale.vectors import SyntheticEmbedder, exact_top_k, near, recall_at_k
from knowledge_base.articles import Article
from knowledge_base.chunking import chunk_article


@pytest.fixture(scope="module")
def base() -> list[Article]:
    return base_articles()


def test_the_corpus_is_deterministic_and_holds_exactly_the_chunks_asked_for(
    base: list[Article],
) -> None:
    first, second = build_corpus(base, 1500, seed=3), build_corpus(base, 1500, seed=3)
    assert first == second
    chunks = [c for a in first.articles for c in chunk_article(a)]
    assert first.chunks == len(chunks) == 1500
    assert first.repetitions == 2  # more than the base's 1,262 chunks
    assert first.chunk_ids() == [c.id for c in chunks]  # the ids and order ingest uses
    assert len(set(first.chunk_ids())) == 1500
    first_pass = {c.embedding_text for c in chunks if "~" not in c.article_id}
    assert not first_pass & {c.embedding_text for c in chunks if "~" in c.article_id}
    other = build_corpus(base, 1500, seed=4)
    assert [a.text for a in other.articles] != [a.text for a in first.articles]


def test_a_repetition_is_the_article_varied(base: list[Article]) -> None:
    article = next(
        a for a in base if "press" in a.text.lower() and any(ch.isdigit() for ch in a.text)
    )
    assert variant(article, 0, seed=0) == article
    again = variant(article, 2, seed=0)
    assert again.id == f"{article.id}~2" and again.title.endswith("(edition 2)")
    assert again.text != article.text and again == variant(article, 2, seed=0)
    assert len(again.text.split()) == len(article.text.split())


def test_perturbing_swaps_synonyms_keeping_case_and_shifts_numbers() -> None:
    text = " ".join(["Press the button 10 times."] * 40)
    out = perturb(text, random.Random(1))
    assert "Push" in out and "key" in out and "10" in out
    assert any(n != "10" for n in out.split() if n.isdigit())
    assert out == perturb(text, random.Random(1))


def test_queries_and_samples_are_deterministic(base: list[Article]) -> None:
    asked = queries(700, seed=0)
    assert len(asked) == 700 and asked == queries(700, seed=0)
    assert len(set(asked)) > 650  # the second pass is perturbed
    corpus = build_corpus(base, 400)
    assert (
        sample_texts(corpus, 50) == sample_texts(corpus, 50) and len(sample_texts(corpus, 50)) == 50
    )


def test_exact_search_against_itself_has_recall_one_and_a_miss_lowers_it() -> None:
    matrix = SyntheticEmbedder(dim=32).embed_batch([f"t{i % 7}\nchunk {i}" for i in range(300)])
    asked = near(matrix, 20, seed=1)
    indices, scores = exact_top_k(matrix, asked, 10)
    assert recall_at_k(indices.tolist(), scores, matrix, asked) == 1.0
    brute = np.argsort(-(asked @ matrix.T), axis=1, kind="stable")[:, :10]
    assert (np.sort(indices, axis=1) == np.sort(brute, axis=1)).all()
    worst = np.argsort(asked @ matrix.T, axis=1)[:, :10]
    assert recall_at_k(worst.tolist(), scores, matrix, asked) == 0.0
    half = [[*row[:5], *bad[:5]] for row, bad in zip(indices.tolist(), worst.tolist(), strict=True)]
    assert recall_at_k(half, scores, matrix, asked) == 0.5


def test_a_copy_of_a_true_neighbour_found_in_its_place_is_no_miss() -> None:
    matrix = SyntheticEmbedder(dim=16).embed_batch(["a\nx", "b\ny", "c\nz"])
    matrix = np.vstack([matrix, matrix[:1]])  # row 3 copies row 0
    asked = matrix[:1]
    _, scores = exact_top_k(matrix, asked, 1)
    assert recall_at_k([[3]], scores, matrix, asked) == 1.0


def test_synthetic_vectors_are_deterministic_unit_rows_clustered_by_heading() -> None:
    embedder = SyntheticEmbedder()
    rows = embedder.embed_batch(["Wi-Fi > Setup\none", "Wi-Fi > Setup 2\ntwo", "Remote\nthree"])
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(
        rows,
        SyntheticEmbedder().embed_batch(
            ["Wi-Fi > Setup\none", "Wi-Fi > Setup 2\ntwo", "Remote\nthree"]
        ),
    )
    assert rows[0] @ rows[1] > 0.3 > abs(float(rows[0] @ rows[2]))


def test_the_command_prints_a_table_then_one_json_object_last(
    capsys: pytest.CaptureFixture[str],
) -> None:
    figures = main(
        ["--chunks", "300", "--vectors", "synthetic", "--chroma", "memory", "--queries", "20"]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert "dense recall@10 vs exact" in "\n".join(lines[:-1])
    assert json.loads(lines[-1]) == figures
    assert figures["chunks"] == 300 and figures["dense_recall_at_10"] == 1.0  # the store is exact
    assert "ingest_vs_raw" not in figures  # no model: nothing to compare with


def test_with_an_embedder_ingest_is_compared_with_raw_encoding_in_the_same_run() -> None:
    figures = run(200, store_kind="memory", n_queries=10, embedder=HashingEmbedder(), raw_sample=50)
    assert figures["raw_encode_texts"] == 50
    assert float(figures["ingest_vs_raw"]) > 0
    assert figures["dense_recall_at_10"] == 1.0
    assert float(figures["hybrid_ms_p95"]) >= float(figures["hybrid_ms_p50"]) > 0


def test_with_the_lexical_leg_in_the_database_both_legs_are_measured_and_its_tables_dropped(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'lexical.db'}"
    figures = run(
        300,
        store_kind="memory",
        vectors="synthetic",
        n_queries=10,
        lexical="database",
        database_url=url,
    )
    assert figures["lexical"] == "database" and "sqlite" in str(figures["where"])
    assert float(figures["lexical_db_write_s"]) > 0 and float(figures["lexical_db_tables_mb"]) > 0
    assert float(figures["lexical_db_ms_p95"]) >= float(figures["lexical_db_ms_p50"]) > 0
    assert float(figures["hybrid_db_ms_p95"]) >= float(figures["hybrid_db_ms_p50"]) > 0
    assert "lexical_build_s" in figures  # the in-process leg, measured beside it
    assert not sa.inspect(sa.create_engine(url)).get_table_names()  # its tables are gone


def test_a_leg_that_fails_at_this_size_is_recorded_and_the_rest_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.errors import StoreError

    def too_many(chunks: object) -> None:
        raise StoreError("Chroma failed to read chunks: too many SQL variables")

    # Building the in-process index fails (reading every chunk did, on a Chroma server at
    # 100,000); the dense leg is measured all the same.
    monkeypatch.setattr("evals.scale.run.LexicalIndex", too_many)
    monkeypatch.setattr("knowledge_base.lexical.LexicalIndex", too_many)
    figures = run(300, store_kind="memory", vectors="synthetic", n_queries=10)

    assert "too many SQL variables" in str(figures["lexical_error"])
    assert "too many SQL variables" in str(figures["hybrid_error"])
    assert figures["dense_recall_at_10"] == 1.0


def test_the_search_breadth_is_measured_only_on_a_server_of_the_run_s_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--chunks", "300", "--chroma", "embedded", "--search-ef", "100,400"])
    with pytest.raises(SystemExit):
        main(["--chunks", "300", "--chroma", "server", "--search-ef", "100,wide"])
    assert "--chroma server" in capsys.readouterr().err


@pytest.mark.integration
def test_on_a_server_of_its_own_each_search_breadth_is_loaded_and_measured(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Chroma reads ef_search when it loads the index: the run restarts its server for each
    breadth, and a breadth of 10 finds fewer true neighbours than one of 400 (0.885 and 0.997
    at 20,000 chunks)."""
    args = "--chunks 20000 --vectors synthetic --chroma server --search-ef 10,400 --dense-only"
    figures = main([*args.split(), "--queries", "50"])
    out = capsys.readouterr().out
    assert "dense at ef_search 400: recall_at_10" in out
    assert float(figures["dense_ef10_recall_at_10"]) < float(figures["dense_ef400_recall_at_10"])
    assert "lexical_ms_p95" not in figures and "hybrid_ms_p95" not in figures
