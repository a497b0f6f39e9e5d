"""The whole app on fakes, outside pytest: a scripted model that answers or is judged at random,
the three-article knowledge base in memory, a SQLite file, and one key per role. For the
schemathesis test and for ``python -m tests.assistant.api.fake_app`` (a server to aim
``scripts/fuzz.sh`` at; it never loads a language model)."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from assistant.app import create_app
from assistant.pipeline.assistant import Assistant
from assistant.pipeline.classify import IssueClassifier
from assistant.pipeline.settings import PipelineSettings
from assistant.settings import Settings
from assistant.storage import Database
from assistant.storage.keys import Role
from core.embeddings import HashingEmbedder, Vectors
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from knowledge_base.ingest import ingest
from knowledge_base.search import HybridSearcher
from knowledge_base.store import InMemoryStore
from tests.assistant.api.conftest import fake_services
from tests.conftest import ARTICLES, FAKE_CALIBRATION, TAXONOMY, answer_json


def respond(messages: Sequence[ChatMessage]) -> str:
    """An answer that cites the refund article for the answer prompt; an even-odds judge."""
    if any("answerable" in m.content for m in messages):
        return answer_json("Refunds must be requested within 7 days of delivery.", ["ref-001"])
    return "0.5"


class UnitEmbedder(HashingEmbedder):
    """The hashing embedder with MiniLM's promise of unit vectors: a text without a word
    (fuzzers send plenty) gets a fixed one instead of zeros."""

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        out = super().embed_batch(texts)
        out[~out.any(axis=1), 0] = 1.0
        return out


@dataclass
class FakeApp:
    app: FastAPI
    database: Database
    keys: dict[str, str]  # role -> secret


def build(data_dir: Path, **settings: Any) -> FakeApp:
    """The app on a SQLite file in ``data_dir``; its knowledge-base folder is a copy there, so
    accepted articles never land in the repository."""
    data_dir.mkdir(parents=True, exist_ok=True)
    kb = data_dir / "kb"
    if not kb.exists():
        shutil.copytree(Settings().kb_path, kb)
    database = Database.connect(f"sqlite:///{data_dir / 'tether.db'}")
    embedder = UnitEmbedder()
    store = InMemoryStore()
    ingest(ARTICLES, store=store, embedder=embedder, progress=False)
    classifier = IssueClassifier.from_taxonomy(TAXONOMY, embedder, threshold=0.0)

    def make_assistant(model: FakeChatModel) -> Assistant:
        return Assistant(
            model=model,
            embedder=embedder,
            searcher=HybridSearcher(store, embedder),
            classifier=classifier,
            settings=PipelineSettings.model_validate(
                {"min_retrieval_score": 0.1, "guardrails_calibration": FAKE_CALIBRATION}
            ),
        )

    services = fake_services(
        database,
        model=FakeChatModel(respond),
        make_assistant=make_assistant,
        embedder=embedder,
        kb_store=store,
    )
    keys = {
        role.value: database.keys.create(f"fuzz-{role.value}", role).secret
        for role in (Role.CUSTOMER, Role.AGENT, Role.ADMIN)
    }
    app = create_app(
        services=services, settings=Settings(data_dir=data_dir, kb_path=kb, **settings)
    )
    return FakeApp(app=app, database=database, keys=keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="a folder for the SQLite file")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keys", type=Path, help="write the keys here as JSON (role -> key)")
    args = parser.parse_args()
    # A fuzzer fails authentication on purpose and posts many messages: limits off.
    fake = build(
        args.data,
        auth_failures_per_address=0,
        auth_failures_per_prefix=0,
        messages_per_conversation=0,
    )
    if args.keys:
        args.keys.write_text(json.dumps(fake.keys))
    print(json.dumps(fake.keys), flush=True)
    uvicorn.run(fake.app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
