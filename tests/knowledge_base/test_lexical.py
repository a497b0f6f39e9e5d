"""The lexical legs: the SQL one ranks and scores as the in-process BM25 does, follows every
write (deletes, replacements, another process's writes), and a half-failed mirrored write is
written again by the next ingest. SQLite here; PostgreSQL in the integration set."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from core.embeddings import HashingEmbedder
from core.errors import StoreError
from knowledge_base.articles import Article, Chunk, load_articles
from knowledge_base.chunking import chunk_article
from knowledge_base.ingest import ingest
from knowledge_base.lexical import LexicalIndex, MirroredStore, SqlLexical
from knowledge_base.search import HybridSearcher
from knowledge_base.store import InMemoryStore, chunk_order

SAMPLE = Path(__file__).resolve().parents[2] / "knowledge_base" / "sample" / "articles"
QUESTIONS = [
    "How much does Instant Pay charge each time I cash out?",
    "How long do I have to ask for a refund?",
    "my card terminal shows error and will not connect",
    "refund refund refund",  # a term asked three times weighs three times
    "password",
    "zeppelin hangar",  # no word of it is in the knowledge base
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lexical.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


Connect = Callable[..., SqlLexical]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """SqlLexical.connect, with every connection closed after the test."""
    opened: list[SqlLexical] = []

    def open_one(url: str, kind: type[SqlLexical] = SqlLexical) -> SqlLexical:
        opened.append(kind.connect(url))
        return opened[-1]

    yield open_one
    for lexical in opened:
        lexical.close()


@pytest.fixture(scope="module")
def sample_chunks() -> list[Chunk]:
    return [c for article in load_articles(SAMPLE) for c in chunk_article(article)]


def _ranking(hits: Sequence[tuple[Chunk, float]]) -> list[tuple[str, float]]:
    return [(chunk.id, round(score, 3)) for chunk, score in hits]


def test_the_sql_leg_ranks_and_scores_as_the_in_process_index(
    connect: Connect, database_url: str, sample_chunks: list[Chunk]
) -> None:
    sql = connect(database_url)
    sql.upsert(sample_chunks)
    memory = LexicalIndex(sample_chunks)

    for question in QUESTIONS:
        expected = memory.query(question, 10)
        found = sql.query(question, 10)
        assert [c.id for c, _ in found] == [c.id for c, _ in expected], question
        assert [s for _, s in found] == pytest.approx([s for _, s in expected], rel=1e-4)
    assert sql.query("zeppelin hangar", 10) == []
    assert sql.count() == len(sample_chunks)


def test_the_sql_leg_keeps_to_an_issue_type(
    connect: Connect, database_url: str, sample_chunks: list[Chunk]
) -> None:
    sql = connect(database_url)
    sql.upsert(sample_chunks)
    issue_type = sample_chunks[0].issue_type

    hits = sql.query("refund card payment", 20, issue_type=issue_type)

    assert hits and {c.issue_type for c, _ in hits} == {issue_type}
    expected = LexicalIndex(sample_chunks).query("refund card payment", 20, issue_type=issue_type)
    assert [c.id for c, _ in hits] == [c.id for c, _ in expected]


def test_deleting_and_replacing_leaves_the_scores_of_a_fresh_index(
    connect: Connect, database_url: str, sample_chunks: list[Chunk]
) -> None:
    sql = connect(database_url)
    articles = sorted({c.article_id for c in sample_chunks})
    kept = [c for c in sample_chunks if c.article_id not in articles[:3]]
    sql.upsert(sample_chunks)
    sql.upsert(sample_chunks[:5])  # the same ids again: replaced, not counted twice
    sql.delete_articles(articles[:3])

    fresh = LexicalIndex(kept)
    for question in QUESTIONS:
        assert _ranking(sql.query(question, 10)) == _ranking(fresh.query(question, 10))
    assert sql.chunks() == sorted(kept, key=chunk_order)
    assert {c.article_id for c in sql.chunks(articles[3:5])} == set(articles[3:5])


def test_a_write_through_one_process_is_in_the_others_next_search(
    connect: Connect, database_url: str
) -> None:
    writer, reader = connect(database_url), connect(database_url)
    printer = Article(id="printer", title="Printer", text="Error: add paper.", issue_type="hw")
    writer.upsert(chunk_article(printer))
    assert [c.article_id for c, _ in reader.query("paper", 3)] == ["printer"]

    edited = printer.model_copy(update={"text": "Zorblax: add paper."})
    writer.delete_articles(["printer"])
    writer.upsert(chunk_article(edited))

    ((chunk, _),) = reader.query("zorblax", 3)
    assert chunk.text == "Zorblax: add paper."


class FailingOnce(SqlLexical):
    """Fails its first write, as a database that drops for a moment would."""

    failed = False

    def upsert(self, chunks: Sequence[Chunk]) -> None:
        if not self.failed:
            self.failed = True
            raise StoreError("the lexical index failed to write chunks: connection lost")
        super().upsert(chunks)


def test_a_write_that_failed_half_way_is_written_again_by_the_next_ingest(
    connect: Connect, tmp_path: Path
) -> None:
    lexical = connect(f"sqlite:///{tmp_path / 'lexical.db'}", FailingOnce)
    store = MirroredStore(InMemoryStore(), lexical)
    articles = load_articles(SAMPLE)[:4]
    embedder = HashingEmbedder()

    with pytest.raises(StoreError):
        ingest(articles, store=store, embedder=embedder, progress=False)
    assert store.vectors.count() > 0 and lexical.count() == 0
    assert set(store.article_hashes().values()) == {""}  # no article is taken as stored

    report = ingest(articles, store=store, embedder=embedder, progress=False)

    assert sorted(report.updated) == sorted(a.id for a in articles)
    assert lexical.count() == store.vectors.count()
    assert store.article_hashes() == {a.id: a.content_hash for a in articles}


def test_hybrid_search_over_the_sql_leg_finds_and_widens_as_over_memory(
    connect: Connect, tmp_path: Path
) -> None:
    embedder = HashingEmbedder()
    articles = load_articles(SAMPLE)
    memory_store = InMemoryStore()
    ingest(articles, store=memory_store, embedder=embedder, progress=False)
    lexical = connect(f"sqlite:///{tmp_path / 'lexical.db'}")
    mirrored = MirroredStore(InMemoryStore(), lexical)
    ingest(articles, store=mirrored, embedder=embedder, progress=False)
    in_memory = HybridSearcher(memory_store, embedder)
    in_sql = HybridSearcher(mirrored, embedder, lexical=lexical)

    for question in QUESTIONS[:3]:
        expected = in_memory.widen(in_memory.search(question, 6))
        found = in_sql.widen(in_sql.search(question, 6))
        assert [(p.chunk.id, p.text) for p in found] == [(p.chunk.id, p.text) for p in expected]
    article = articles[0].id
    assert [p.text for p in in_sql.sections([article])] == [
        p.text for p in in_memory.sections([article])
    ]


def test_a_failed_write_is_a_store_error_and_leaves_the_tables_as_they_were(
    connect: Connect, database_url: str, sample_chunks: list[Chunk]
) -> None:
    sql = connect(database_url)
    sql.upsert(sample_chunks[:10])
    before = _ranking(sql.query(QUESTIONS[0], 10))

    with pytest.raises(StoreError, match="failed to write chunks"):
        sql.upsert([*sample_chunks[10:20], sample_chunks[10]])  # one id twice: the key refuses

    assert sql.count() == 10 and _ranking(sql.query(QUESTIONS[0], 10)) == before


def test_replicas_starting_at_once_each_find_or_create_the_tables(
    connect: Connect, database_url: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        started = list(pool.map(lambda _: connect(database_url), range(6)))
    chunk = Chunk(
        id="a#0", article_id="a", title="Pay", section="", text="instant pay fee", issue_type="x"
    )
    started[0].upsert([chunk])
    assert [chunk.id for chunk, _ in started[-1].query("instant pay", 5)] == ["a#0"]
