"""The real embedded stack, loaded once per test session: MiniLM, the GGUF model, Chroma on disk."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from assistant.pipeline.assistant import Assistant
from assistant.pipeline.classify import IssueClassifier, load_taxonomy
from assistant.settings import Settings
from core.embeddings import MiniLMEmbedder
from core.llm.base import ChatModel
from core.llm.llama_cpp import LlamaCppModel
from knowledge_base.articles import load_articles
from knowledge_base.ingest import ingest
from knowledge_base.search import HybridSearcher
from knowledge_base.store import ChromaStore

SETTINGS = Settings()


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def llama() -> Iterator[LlamaCppModel]:
    model = LlamaCppModel.load(
        SETTINGS.llm_model_path, n_ctx=SETTINGS.llm_n_ctx, n_threads=SETTINGS.llm_threads
    )
    yield model
    model.close()


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory, minilm: MiniLMEmbedder) -> ChromaStore:
    store = ChromaStore.persistent(tmp_path_factory.mktemp("chroma"), "sample")
    ingest(load_articles(SETTINGS.kb_path), store=store, embedder=minilm, progress=False)
    return store


@pytest.fixture(scope="session")
def sample_classifier(minilm: MiniLMEmbedder) -> IssueClassifier:
    return IssueClassifier.from_taxonomy(
        load_taxonomy(SETTINGS.taxonomy_path), minilm, threshold=SETTINGS.classifier_threshold
    )


AssistantFactory = Callable[..., Assistant]


@pytest.fixture(scope="session")
def sample_assistant(
    minilm: MiniLMEmbedder, sample_store: ChromaStore, sample_classifier: IssueClassifier
) -> AssistantFactory:
    """Build the assistant over the sample knowledge base with a given model (and judge)."""

    def build(model: ChatModel, judge: ChatModel | None = None, **config: object) -> Assistant:
        return Assistant(
            model=model,
            judge_model=judge,
            embedder=minilm,
            searcher=HybridSearcher(sample_store, minilm),
            classifier=sample_classifier,
            settings=SETTINGS.updated(config),
        )

    return build


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    args: list[str],
    ready_url: str,
    *,
    timeout: float = 180.0,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a server process on loopback and wait until ``ready_url`` answers 200."""
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"tether-server-{time.time_ns()}.log"
    with log.open("wb") as sink:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            args, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{args[0]} exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            if httpx.get(ready_url, timeout=2.0).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"{args} not ready after {timeout}s: {log.read_text()[-2000:]}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


PYTHON = sys.executable
