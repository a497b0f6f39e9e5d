"""Retrieval benchmark: recall@k and MRR of ``HybridSearcher.search_articles`` on a folder.

The folder holds ``articles.jsonl`` ({id, title, text}) and ``questions.jsonl`` ({id,
gold_article_ids, question | conversation}). Questions are split into dev and test by a hash of
their id, so tuning can look at dev only and a test figure stays honest.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.pipeline.condense import core_issue
from assistant.wiring import build_embedder
from core.conversation import Turn as ChatTurn
from core.embeddings import Embedder
from core.errors import ConfigurationError
from knowledge_base.articles import Article, load_articles, load_jsonl
from knowledge_base.ingest import ingest
from knowledge_base.search import HybridSearcher
from knowledge_base.store import ChromaStore

SPLITS = ("dev", "test", "all")
DEV_BUCKETS = 3  # of 10: about 30% of questions are dev
MRR_DEPTH = 10


class Turn(BaseModel):
    role: str
    text: str

    def as_chat_turn(self) -> ChatTurn:
        return ChatTurn(
            role="customer" if self.role in ("user", "customer") else "assistant", text=self.text
        )


class Question(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    gold_article_ids: list[str]
    question: str | None = None
    conversation: list[Turn] | None = None
    kind: str = ""
    expect: Literal["answer", "escalate"] = "answer"
    tags: list[str] = Field(default_factory=list)

    @property
    def group(self) -> str:
        return self.kind or (self.tags[0] if self.tags else "")

    @model_validator(mode="after")
    def _has_query(self) -> Question:
        if self.question is None and not self.conversation:
            raise ValueError("a question needs `question` or `conversation`")
        return self

    @property
    def query(self) -> str:
        if self.question is not None:
            return self.question
        return conversation_query(self.conversation or [])

    def turns(self) -> list[ChatTurn]:
        """The question as the conversation the assistant receives."""
        if self.question is not None:
            return [ChatTurn(role="customer", text=self.question)]
        return [t.as_chat_turn() for t in self.conversation or []]

    @property
    def last_turn(self) -> str:
        """The latest user turn alone: the baseline the core-issue condensation must beat."""
        if self.question is not None:
            return self.question
        return [t.text for t in self.conversation or [] if t.role in ("user", "customer")][-1]


def conversation_query(turns: Sequence[Turn]) -> str:
    """The product's own condensation of a conversation into its core issue."""
    return core_issue([t.as_chat_turn() for t in turns])


def dataset_articles(folder: Path) -> list[Article]:
    """``articles.jsonl``, or else a folder ``articles/`` of markdown files with front matter."""
    if (folder / "articles.jsonl").is_file():
        return list(load_jsonl(folder / "articles.jsonl"))
    if (folder / "articles").is_dir():
        return load_articles(folder / "articles")
    raise ConfigurationError(f"{folder} has neither articles.jsonl nor articles/")


def split_of(question_id: str) -> Literal["dev", "test"]:
    """Deterministic: the same id is always in the same split."""
    bucket = int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % 10
    return "dev" if bucket < DEV_BUCKETS else "test"


def load_questions(path: Path, split: str = "all") -> list[Question]:
    if split not in SPLITS:
        raise ConfigurationError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    questions = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            questions.append(Question.model_validate_json(line))
        except ValidationError as exc:
            raise ConfigurationError(f"{path}:{line_no}: not a question ({exc})") from exc
    return [q for q in questions if split == "all" or split_of(q.id) == split]


def _rank(ranking: Sequence[str], gold: Sequence[str]) -> int | None:
    """1-based rank of the first gold id in the ranking, if any."""
    return next((n for n, item in enumerate(ranking, start=1) if item in gold), None)


def _scores(ranks: Sequence[int | None], k_values: Sequence[int]) -> dict[str, float]:
    n = len(ranks)
    result: dict[str, float] = {"n": n}
    for k in k_values:
        result[f"recall@{k}"] = sum(r is not None and r <= k for r in ranks) / n if n else 0.0
    result["mrr"] = sum(1 / r for r in ranks if r is not None) / n if n else 0.0
    return result


def _table(rows: dict[str, dict[str, float]], k_values: Sequence[int]) -> str:
    names = ["n", *(f"recall@{k}" for k in k_values), "mrr"]
    lines = [f"{'questions':<14}" + "".join(f"{name:>11}" for name in names)]
    for label, row in rows.items():
        cells = [f"{int(row['n']):>11}", *(f"{row[name]:>11.3f}" for name in names[1:])]
        lines.append(f"{label:<14}" + "".join(cells))
    return "\n".join(lines)


def run(
    folder: Path,
    *,
    embedder: Embedder | None = None,
    workdir: Path | None = None,
    k_values: Sequence[int] = (1, 5),
    split: str = "all",
) -> dict[str, float]:
    """Ingest the folder's articles into a fresh Chroma collection, rank articles per question,
    print a table (by question kind, then all) and return n, recall@k and MRR (over the top 10)."""
    if not (folder / "questions.jsonl").is_file():
        raise ConfigurationError(f"{folder / 'questions.jsonl'} not found")
    articles = dataset_articles(folder)
    # Questions with no gold article (outside the knowledge base) have nothing to retrieve.
    questions = [q for q in load_questions(folder / "questions.jsonl", split) if q.gold_article_ids]
    embedder = embedder or build_embedder()
    depth = max(MRR_DEPTH, *k_values)
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tether-eval-", dir=workdir) as tmp:
        store = ChromaStore.persistent(Path(tmp), "retrieval_eval")
        ingest(articles, store=store, embedder=embedder)
        chunks = store.count()
        searcher = HybridSearcher(store, embedder)
        started = time.perf_counter()
        ranks = [
            _rank(searcher.search_articles(q.query, depth), q.gold_article_ids) for q in questions
        ]
        seconds = time.perf_counter() - started
        multi = [q for q in questions if q.conversation]
        last_turn_ranks = [
            _rank(searcher.search_articles(q.last_turn, depth), q.gold_article_ids) for q in multi
        ]
    rows: dict[str, dict[str, float]] = {}
    for group in sorted({q.group for q in questions if q.group}):
        of_group = [r for r, q in zip(ranks, questions, strict=True) if q.group == group]
        rows[group] = _scores(of_group, k_values)
    if multi:
        rows["conversations"] = _scores(
            [r for r, q in zip(ranks, questions, strict=True) if q.conversation], k_values
        )
        rows["last-turn-only"] = _scores(last_turn_ranks, k_values)
    rows["all"] = result = _scores(ranks, k_values)
    print(
        f"retrieval on {folder} (split {split}, {len(articles)} articles, {chunks} chunks, "
        f"{embedder.name}; {1000 * seconds / max(len(questions), 1):.0f} ms per question)"
    )
    print(_table(rows, k_values))
    return result
