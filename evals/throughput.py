"""The path around the model: how many messages per second the product handles when the model
answers at once, and what each non-model stage costs (``python -m evals.throughput``).

Everything is real except the model: MiniLM, Chroma on disk, SQLite, the chat service and its
workers. The instant model answers every question with the first sentence of its evidence, so
the checks run as they would on a real answer. Per-stage figures are the stages' own timings
(wall milliseconds, one message at a time: on an idle machine that is CPU time); messages/s is
measured one at a time and with ``workers`` at once. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from assistant.settings import SAMPLE_KB, Settings
from assistant.storage import Database
from assistant.wiring import assemble, build_embedder
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from evals.report import table
from evals.retrieval import load_questions
from knowledge_base.articles import load_articles
from knowledge_base.ingest import ingest
from knowledge_base.store import ChromaStore

STAGES = ("screen", "classify", "retrieve", "focus", "generate", "guardrail", "total")


def instant(messages: Sequence[ChatMessage]) -> str:
    """The first excerpt sentence, cited: an answer the checks pass, with no model."""
    prompt = messages[-1].content
    article = re.search(r"\[([A-Za-z0-9][\w.-]*)\]", prompt)
    lines = [line for line in prompt.splitlines()[1:] if line and not line.startswith("[")]
    first = lines[0] if lines else "Yes."
    return f"{first} [{article[1]}]" if article else first


def run(
    *, messages: int = 120, workers: int = 4, settings: Settings | None = None
) -> dict[str, float]:
    settings = (settings or Settings()).updated(
        {"answer_prompt": "answer@6", "evidence": "focused"}
    )
    questions = [q.turns()[-1].text for q in load_questions(SAMPLE_KB / "questions.jsonl")]
    texts = [questions[i % len(questions)] for i in range(messages)]
    with tempfile.TemporaryDirectory() as tmp:
        embedder = build_embedder()
        store = ChromaStore.persistent(Path(tmp) / "chroma", "throughput")
        ingest(load_articles(settings.kb_path), store=store, embedder=embedder, progress=False)
        services = assemble(
            settings,
            model=FakeChatModel(instant),
            embedder=embedder,
            vector_store=store,
            database=Database.connect(f"sqlite:///{tmp}/throughput.db"),
        )
        chat = services.chat
        services.warm().join()  # as a running server does at start
        chat.post_message(chat.database.conversations.create().id, texts[0])
        laps: dict[str, list[float]] = {stage: [] for stage in STAGES}
        start = time.perf_counter()
        for text in texts:
            reply = chat.post_message(chat.database.conversations.create().id, text).reply
            for stage in STAGES:
                if stage in reply.latency_ms:
                    laps[stage].append(reply.latency_ms[stage])
        sequential = len(texts) / (time.perf_counter() - start)
        ids = [chat.database.conversations.create().id for _ in texts]
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(chat.post_message, ids, texts))
        parallel = len(texts) / (time.perf_counter() - start)
    figures: dict[str, float] = {
        "messages": float(len(texts)),
        "messages_per_s": round(sequential, 1),
        f"messages_per_s_{workers}_at_once": round(parallel, 1),
    }
    rows = []
    for stage, values in laps.items():
        if values:
            p50, p95 = np.percentile(values, 50), np.percentile(values, 95)
            figures[f"{stage}_ms_p50"] = round(float(p50), 1)
            figures[f"{stage}_ms_mean"] = round(float(np.mean(values)), 1)
            rows.append(
                (
                    stage,
                    round(float(np.mean(values)), 1),
                    round(float(p50), 1),
                    round(float(p95), 1),
                )
            )
    print(
        table("Non-model stages, one message at a time (ms)", rows, ("stage", "mean", "p50", "p95"))
    )
    print(
        f"\n{figures['messages_per_s']} messages/s one at a time, "
        f"{figures[f'messages_per_s_{workers}_at_once']} with {workers} at once"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=120)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(run(messages=args.messages, workers=args.workers)))


if __name__ == "__main__":
    main()
