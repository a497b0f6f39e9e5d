"""The knowledge base improves from what fails: escalations, answers the judge scored low and
answers with weak retrieval are grouped by topic (clusters of their core-issue embeddings) and
shown to admins as suggested articles, with the agents' answers where they exist. Accepting one
writes a markdown article into the knowledge base folder and re-ingests it.

Ingesting (here, ``tether ingest``, ``tether serve`` at start, ``POST /v1/admin/ingest``) takes the
ingest job's lock (assistant/storage/locks.py): of two replicas that ingest at once, one does it
and the other is told it already runs. The suggestions are computed on each request and only
read, so they take no lock."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from assistant.escalations.models import QueueFilter
from assistant.monitoring.gaps import GapCluster, GapItem, cluster_gaps
from assistant.monitoring.quality import Metric
from assistant.storage import Database
from assistant.storage.locks import AlreadyRunning, Job
from assistant.storage.tables import utcnow
from core.embeddings import Embedder
from core.errors import ConflictError
from guardrails.verdict import ReasonCode
from knowledge_base.articles import load_articles
from knowledge_base.ingest import IngestReport, ingest
from knowledge_base.store import VectorStore

LOW_SCORE = 2  # a judge score of 1-2 (of 5) on accuracy or retrieval


def gap_items(
    database: Database, *, since: datetime, retrieval_below: float, limit: int = 500
) -> list[GapItem]:
    items: list[GapItem] = []
    answers = {g.escalation_id: g.answer for g in database.escalations.kb_gaps(status=None)}
    page = database.escalations.page(QueueFilter(), sort="newest", limit=limit)
    for case in page.items:
        if case.created_at < since or not case.core_issue.strip():
            continue
        if ReasonCode.PROMPT_INJECTION in case.reasons or ReasonCode.OUT_OF_SCOPE in case.reasons:
            continue  # not a gap in the knowledge base
        if case.reasons == [ReasonCode.CUSTOMER_FEEDBACK]:
            # A thumbs-down on an answer the check passed: the articles held it, so it says
            # little about what they lack (an agent who finds a gap marks it on resolving).
            continue
        items.append(
            GapItem(
                id=f"esc:{case.id}",
                text=case.core_issue,
                source="escalation",
                answer=answers.get(case.id),
            )
        )
    low_judged = {
        r.message_id
        for r in database.quality.reviews(since=since)
        if r.judge_scores.get(Metric.ACCURACY, 5) <= LOW_SCORE
        or r.judge_scores.get(Metric.RETRIEVAL, 5) <= LOW_SCORE
    }
    for reply in database.quality.replies(since=since):
        if not reply.trace.answered:
            continue  # escalations are counted above
        question = reply.trace.core_issue.strip()
        if not question:
            continue
        best = reply.trace.retrieval_best
        if reply.message_id in low_judged:
            items.append(
                GapItem(id=f"msg:{reply.message_id}", text=question, source="low_judge_score")
            )
        elif best is not None and best < retrieval_below:
            items.append(
                GapItem(id=f"msg:{reply.message_id}", text=question, source="low_retrieval")
            )
    return items[:limit]


def suggestions(
    database: Database,
    embedder: Embedder,
    *,
    since: datetime,
    retrieval_below: float,
    distance_threshold: float = 0.5,
    min_size: int = 2,
) -> list[GapCluster]:
    items = [
        i
        for i in gap_items(database, since=since, retrieval_below=retrieval_below)
        if i.text.strip()
    ]
    if len(items) < min_size:
        return []
    vectors = embedder.embed_batch([i.text for i in items])
    return cluster_gaps(items, vectors, distance_threshold=distance_threshold, min_size=min_size)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "article"


def write_article(
    folder: Path, *, title: str, issue_type: str, text: str, today: str
) -> tuple[str, Path]:
    """A new markdown article with front matter in ``folder``; returns its id and path."""
    if not folder.is_dir():
        raise ConflictError(
            f"the knowledge base {folder} is not a folder of markdown articles: "
            "add the article to its source instead"
        )
    base = f"gap-{slug(title)}"
    article_id, n = base, 1
    while (folder / f"{article_id}.md").exists():
        n += 1
        article_id = f"{base}-{n}"
    body = text.strip()
    if not body.startswith("#"):
        body = f"## {title.strip()}\n{body}"
    path = folder / f"{article_id}.md"
    path.write_text(
        f"---\nid: {article_id}\ntitle: {title.strip()}\nissue_type: {issue_type}\n"
        f"updated: {today}\naudience: customer\n---\n\n{body}\n",
        encoding="utf-8",
    )
    return article_id, path


class Accepted(BaseModel):
    article_id: str
    path: Path
    closed_gaps: int
    ingest: IngestReport


def ingest_under_lock(
    database: Database,
    store: VectorStore,
    embedder: Embedder,
    kb_path: Path,
    *,
    progress: bool = False,
) -> IngestReport | AlreadyRunning:
    """Bring the vector store in line with the articles at ``kb_path`` under the ingest job's
    lock; or, when another process is ingesting now, who is (this one leaves it to them)."""
    outcome = database.locks.run(
        Job.INGEST,
        lambda: ingest(load_articles(kb_path), store=store, embedder=embedder, progress=progress),
    )
    return outcome if isinstance(outcome, AlreadyRunning) else outcome.value


def accept_article(
    database: Database,
    store: VectorStore,
    embedder: Embedder,
    kb_path: Path,
    *,
    title: str,
    issue_type: str,
    text: str,
    item_ids: Sequence[str],
) -> Accepted:
    """Write the article, re-ingest the knowledge base, and close the KB-gap items of the
    escalations it answers (``esc:<id>`` among ``item_ids``); all under the ingest job's lock,
    so a :class:`JobRunningError` (409) when another process is ingesting now."""

    def write_and_ingest() -> Accepted:
        article_id, path = write_article(
            kb_path, title=title, issue_type=issue_type, text=text, today=f"{utcnow():%Y-%m-%d}"
        )
        report = ingest(load_articles(kb_path), store=store, embedder=embedder, progress=False)
        closed = database.escalations.close_gaps(
            [i.removeprefix("esc:") for i in item_ids if i.startswith("esc:")]
        )
        return Accepted(article_id=article_id, path=path, closed_gaps=closed, ingest=report)

    outcome = database.locks.run(Job.INGEST, write_and_ingest)
    if isinstance(outcome, AlreadyRunning):
        raise outcome.error()
    return outcome.value
