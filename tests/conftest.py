"""Shared fakes: a deterministic embedder, a small knowledge base in memory, a scripted model."""

from __future__ import annotations

import gc
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.pool import Pool
from threadpoolctl import threadpool_limits

from assistant.desk import AgentDesk
from assistant.escalations.priority import load_priority_rules
from assistant.pipeline.assistant import Assistant
from assistant.pipeline.classify import IssueClassifier, IssueType, Taxonomy
from assistant.pipeline.settings import PipelineSettings
from assistant.settings import Settings
from assistant.storage import Database
from core.embeddings import HashingEmbedder
from core.llm.fake import FakeChatModel
from guardrails.calibration import Calibration
from knowledge_base.articles import Article, Chunk, Passage
from knowledge_base.ingest import ingest
from knowledge_base.search import HybridSearcher
from knowledge_base.store import InMemoryStore

pytest_plugins = ["tests.support.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    """BLAS and OpenMP on one thread: the suite's arrays are tiny, and two threads on two shared
    cores made them slower (fitting the sample taxonomy's classifier took 0.4 to 3.3 s with two
    threads and 0.12 s with one on this machine, 2026-12-02)."""
    threadpool_limits(limits=1)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What exists once the tests are collected (modules, routers, pydantic schemas: ~600,000
    objects) lives as long as the session, so it is frozen out of the garbage collector's
    scans, and the young generation holds 10,000 objects instead of 700 before a collection.
    The unit suite spent 11-12 s of CPU in the collector (25 full collections, each scanning
    everything) and 5-6 s after (17 full collections of what the tests made), 2026-12-02."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@event.listens_for(Pool, "checkout")
def _sqlite_without_fsync(connection: object, _record: object, _proxy: object) -> None:
    """Test databases skip the fsync of each commit (the app's SQLite runs ``synchronous=FULL``).
    What FULL adds is surviving a power cut, which no test can observe: a committed write still
    survives its process being killed (the durability test's writer is a process of its own,
    with the app's pragmas). A commit took 0.4 to 5 ms on this machine's disk with FULL (more
    while other jobs wrote) and 0.02 ms without; the unit suite commits 4,159 times to SQLite
    files (2026-12-02)."""
    if isinstance(connection, sqlite3.Connection):
        connection.execute("PRAGMA synchronous=OFF")


# The unit tests' fake models write answer@2's JSON (reasoning, answer, citations), so they run
# that written answer format and its defaults before 2026-12-03 (the rule for a follow-up's core
# issue, with no model call, among them). The extractive default
# (answer@9 over focused evidence) has tests of its own, which name it, and the integration set
# runs the defaults on the real model.
WRITTEN: dict[str, str] = {
    "answer_prompt": "answer@2",
    "evidence": "sections",
    "rerank": "likelihood",
    "condense": "heuristic",
}


@pytest.fixture(autouse=True)
def written_answers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("integration") is None:
        for name, value in WRITTEN.items():
            monkeypatch.setenv(f"TETHER_{name.upper()}", value)


ARTICLES = [
    Article(
        id="ref-001",
        title="Refund deadlines",
        issue_type="refunds",
        text=(
            "## Deadlines\nRefunds for missing or damaged items must be requested within 7 days of "
            "delivery. After 7 days the Get Help option disappears.\n\n## How to request\n"
            "Open Orders, select the order and tap Get Help."
        ),
    ),
    Article(
        id="pay-002",
        title="Instant Pay for couriers",
        issue_type="payments_and_pay",
        text=(
            "## Fees\nEach Instant Pay cash-out costs $0.85. You can cash out up to 5 times per "
            "day from Earnings > Instant Pay.\n\n## Eligibility\nInstant Pay unlocks after 25 "
            "deliveries."
        ),
    ),
    Article(
        id="acct-001",
        title="Resetting your password",
        issue_type="account_access",
        text=(
            "## Reset\nTap Forgot password on the sign-in screen. The reset link expires after "
            "30 minutes. Check your spam folder if the email does not arrive."
        ),
    ),
]

TAXONOMY = Taxonomy(
    issue_types=[
        IssueType(
            name="refunds",
            description="Refunds for orders with missing or damaged items.",
            examples=[
                "I want a refund",
                "how long do I have to request a refund",
                "refund my order",
            ],
        ),
        IssueType(
            name="payments_and_pay",
            description="Courier pay, Instant Pay and cash-out fees.",
            examples=[
                "how much does instant pay cost",
                "when do I get paid",
                "cash out my earnings",
            ],
        ),
        IssueType(
            name="account_access",
            description="Signing in, passwords and locked accounts.",
            examples=["I forgot my password", "can't log in", "reset link expired"],
        ),
    ]
)


def make_passage(
    article_id: str,
    text: str,
    *,
    title: str = "Help",
    section: str = "",
    issue_type: str = "x",
    score: float = 1.0,
    dense_score: float = 0.0,
) -> Passage:
    chunk = Chunk(
        id=f"{article_id}#0",
        article_id=article_id,
        title=title,
        section=section,
        text=text,
        issue_type=issue_type,
    )
    return Passage(chunk=chunk, score=score, dense_score=dense_score)


def answer_json(answer: str, citations: list[str], *, answerable: bool = True) -> str:
    return json.dumps(
        {
            "reasoning": "The passage states it.",
            "answerable": answerable,
            "answer": answer,
            "citations": citations,
        }
    )


# Thresholds for the hashing embedder: similarity alone at tier 1, an even-odds judge.
FAKE_CALIBRATION = Calibration(similarity=0.3, coverage=0.0, coverage_floor=0.0, judge=0.5)


def judge_json(*, grounding: bool = True, coherence: bool = True, compliance: bool = True) -> str:
    return json.dumps(
        {
            "grounding": {"rationale": "checked against passages", "ok": grounding},
            "coherence": {"rationale": "reads well", "ok": coherence},
            "compliance": {"rationale": "no promises", "ok": compliance},
        }
    )


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def kb_store(embedder: HashingEmbedder) -> InMemoryStore:
    store = InMemoryStore()
    ingest(ARTICLES, store=store, embedder=embedder, progress=False)
    return store


@pytest.fixture(scope="session")
def classifier() -> IssueClassifier:
    """Fitted once per session (a fit took ~0.1 s, in every test that builds an assistant):
    nothing changes a fitted classifier, and the hashing embedder holds no state."""
    return IssueClassifier.from_taxonomy(TAXONOMY, HashingEmbedder(), threshold=0.0)


@pytest.fixture
def fake_model() -> FakeChatModel:
    return FakeChatModel()


@pytest.fixture
def make_assistant(
    embedder: HashingEmbedder, kb_store: InMemoryStore, classifier: IssueClassifier
) -> Callable[..., Assistant]:
    def build(model: FakeChatModel, **config: object) -> Assistant:
        return Assistant(
            model=model,
            embedder=embedder,
            searcher=HybridSearcher(kb_store, embedder),
            classifier=classifier,
            settings=PipelineSettings.model_validate(
                {
                    "min_retrieval_score": 0.1,
                    "guardrails_calibration": FAKE_CALIBRATION,
                    **WRITTEN,
                    **config,
                }
            ),
        )

    return build


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], str]:
    """A copy of one SQLite file migrated once per session, at ``path``; returns its URL.
    (Running the migrations took ~0.3 s per test, more than most tests themselves.)"""
    template = tmp_path_factory.mktemp("migrated") / "tether.db"
    Database.connect(f"sqlite:///{template}").close()  # closing checkpoints the WAL into it

    def copy(path: Path) -> str:
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"

    return copy


@pytest.fixture
def database(tmp_path: Path, migrated_sqlite: Callable[[Path], str]) -> Iterator[Database]:
    """A migrated SQLite file of its own for each test."""
    db = Database.connect(migrated_sqlite(tmp_path / "tether.db"), migrate=False)
    yield db
    db.close()


@pytest.fixture
def desk(database: Database) -> AgentDesk:
    return AgentDesk(database, load_priority_rules(Settings().priority_rules_path))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def any_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The same test on a SQLite file and on a real PostgreSQL server (integration set)."""
    if request.param == "sqlite":
        url = request.getfixturevalue("migrated_sqlite")(tmp_path / "tether.db")
        db = Database.connect(url, migrate=False)
    else:
        db = Database.connect(request.getfixturevalue("postgres_url"))
    yield db
    db.close()


@pytest.fixture
def any_desk(any_database: Database) -> AgentDesk:
    return AgentDesk(any_database, load_priority_rules(Settings().priority_rules_path))
