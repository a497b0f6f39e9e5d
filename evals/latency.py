"""Per-stage latency of the message path on the real embedded stack.

Runs the sample knowledge base's questions (or any questions.jsonl in that format) through a fresh
Chroma collection and the configured model; prints p50/p95 per stage, the share of checked answers
that reached tier 2, and the escalation rate.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.settings import SAMPLE_KB, get_settings
from assistant.storage import Database
from assistant.wiring import assemble, build_embedder, build_model
from evals.report import table
from evals.retrieval import load_questions
from knowledge_base.articles import load_articles
from knowledge_base.ingest import ingest
from knowledge_base.store import ChromaStore

STAGES = ("condense", "classify", "retrieve", "generate", "guardrail", "total")


def run(questions: Path | None = None, *, limit: int | None = None) -> dict[str, float]:
    settings = get_settings()
    cases = load_questions(questions or SAMPLE_KB / "questions.jsonl")[:limit]
    embedder = build_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        store = ChromaStore.persistent(Path(tmp) / "chroma", "latency")
        ingest(load_articles(settings.kb_path), store=store, embedder=embedder, progress=False)
        services = assemble(
            settings,
            model=build_model(settings),
            embedder=embedder,
            vector_store=store,
            database=Database.connect(f"sqlite:///{tmp}/bench.db"),
        )
        replies = [services.assistant.respond(c.turns()) for c in tqdm(cases, desc="questions")]
    rows = []
    figures: dict[str, float] = {"n": len(replies)}
    for stage in STAGES:
        values = [r.latency_ms[stage] for r in replies if stage in r.latency_ms]
        if not values:
            continue
        p50, p95 = (float(np.percentile(values, q)) for q in (50, 95))
        rows.append((stage, len(values), round(p50), round(p95)))
        figures[f"{stage}_p50_ms"] = round(p50, 1)
        figures[f"{stage}_p95_ms"] = round(p95, 1)
    checked = [r for r in replies if r.verdict.tier in (1, 2)]
    figures["checked"] = len(checked)
    figures["tier2_share"] = round(
        sum(r.verdict.tier == 2 for r in checked) / max(len(checked), 1), 3
    )
    figures["escalation_rate"] = round(sum(not r.answered for r in replies) / len(replies), 3)
    for expect, outcome in (("answer", True), ("escalate", False)):
        meant = [r for r, c in zip(replies, cases, strict=True) if c.expect == expect]
        key = "answered_when_answerable" if outcome else "escalated_when_outside_kb"
        figures[key] = round(sum(r.answered == outcome for r in meant) / max(len(meant), 1), 3)
    reasons: dict[str, int] = {}
    for reply in replies:
        for reason in reply.verdict.reasons:
            reasons[str(reason)] = reasons.get(str(reason), 0) + 1
    print(
        table(
            f"Latency per stage over {len(replies)} questions (ms)",
            rows,
            ("stage", "n", "p50", "p95"),
        )
    )
    print()
    print(table("Escalation reasons", sorted(reasons.items()), ("reason", "count")))
    print(
        f"\ntier-2 share of checked answers: {figures['tier2_share']:.0%}; "
        f"escalation rate: {figures['escalation_rate']:.0%}; answered when answerable: "
        f"{figures['answered_when_answerable']:.0%}; escalated when outside the knowledge base: "
        f"{figures['escalated_when_outside_kb']:.0%}"
    )
    return figures
