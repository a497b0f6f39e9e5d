"""Wiring: the one place that builds the real adapters from settings, and the only one that knows
the backends. The API, the CLI, the benchmark and the evaluations all build through it; tests
build :class:`Services` from fakes with :func:`assemble`."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.chat import ChatService
from assistant.desk import AgentDesk
from assistant.escalations.priority import load_priority_rules
from assistant.experiments.config import load_experiments
from assistant.experiments.router import ExperimentRouter
from assistant.feedback import FeedbackService
from assistant.pipeline.assistant import Assistant
from assistant.pipeline.classify import IssueClassifier, load_taxonomy
from assistant.pipeline.focus import warm
from assistant.pipeline.settings import PipelineSettings
from assistant.readiness import Readiness
from assistant.settings import Settings
from assistant.storage import Database
from assistant.workers import MessageWorkers
from core.embeddings import CachingEmbedder, Embedder, MiniLMEmbedder
from core.errors import TetherError
from core.llm.base import ChatModel
from core.llm.cache import CachingChatModel, LazyModel
from core.llm.queue import QueuedModel
from core.profile import Profile, load_profile
from knowledge_base.lexical import MirroredStore, SqlLexical
from knowledge_base.search import HybridSearcher
from knowledge_base.store import ChromaStore, VectorStore

if TYPE_CHECKING:
    from core.llm.llama_cpp import LlamaCppModel

log = logging.getLogger(__name__)
# How often a running server looks for customer messages left without a reply.
RECOVER_EVERY_S = 60.0


@dataclass
class Services:
    """Everything a running Tether holds on to; tests build one from fakes."""

    model: ChatModel
    embedder: Embedder
    vector_store: VectorStore
    database: Database
    assistant: Assistant
    chat: ChatService
    desk: AgentDesk
    message_workers: int = 4
    message_capacity: int | None = None
    workers: MessageWorkers = field(init=False)
    probes: Readiness = field(init=False)
    feedback: FeedbackService = field(init=False)

    def __post_init__(self) -> None:
        self.feedback = FeedbackService(self.database, self.desk.rules)
        self.workers = MessageWorkers(
            self.chat, workers=self.message_workers, capacity=self.message_capacity
        )
        self.probes = Readiness(
            {
                "model": self.model.is_ready,
                "vector_store": self.vector_store.is_ready,
                "database": self.database.is_ready,
            }
        )

    def warm(self) -> threading.Thread:
        """Embed the knowledge base's sentences and windows in the background (the caching
        embedder keeps them), so the first customers do not wait for it."""

        def run() -> None:
            searcher = self.assistant.searcher
            window = self.assistant.guards.calibration.window
            try:
                chunks = self.vector_store.count()
                if chunks > WARM_MAX_CHUNKS:
                    log.info("too large to warm", extra={"chunks": chunks})
                    return
                count = warm(searcher.sections(), self.embedder, window=window)
            except TetherError as exc:  # a store that is down now is retried per message
                log.warning("warming the embeddings failed", extra={"error": str(exc)})
                return
            log.info("embeddings warm", extra={"texts": count})

        thread = threading.Thread(target=run, name="tether-warm", daemon=True)
        thread.start()
        return thread

    def recover(self) -> list[str]:
        """Escalate the customer messages a stopped server left unanswered (chat.recover);
        a database that is down now is logged, not fatal: the next start retries."""
        try:
            return self.chat.recover()
        except TetherError as exc:
            log.warning("recovering unanswered messages failed", extra={"error": str(exc)})
            return []

    def readiness(self) -> dict[str, bool]:
        """Each component's readiness, within a second even when one of them hangs."""
        return self.probes.check()

    def keep_recovering(self, every_s: float = RECOVER_EVERY_S) -> threading.Thread:
        """:meth:`recover` every ``every_s`` seconds while the process runs: a message whose
        reply could not be stored (the database was down longer than the chat service waits)
        becomes a case without waiting for a restart."""

        def run() -> None:
            while True:
                time.sleep(every_s)
                self.recover()

        thread = threading.Thread(target=run, name="tether-recover", daemon=True)
        thread.start()
        return thread


# Texts whose vectors are kept: the knowledge base's chunks and sentences, recent questions.
EMBEDDING_CACHE_ITEMS = 100_000
# Warming embeds about 5 texts per chunk (sentences and their windows): past this many chunks
# they would not fit the cache above, and a replica over a million chunks would spend hours of
# CPU embedding texts it then forgets; such a knowledge base is embedded as customers ask.
WARM_MAX_CHUNKS = 20_000


@cache
def build_embedder() -> Embedder:
    """The packaged MiniLM, loaded once per process (it holds 0.7 GB), remembering the vectors
    of the texts it has embedded: tier 1 holds every answer against the same passage windows."""
    return CachingEmbedder(MiniLMEmbedder(), max_items=EMBEDDING_CACHE_ITEMS)


def build_model(settings: Settings) -> ChatModel:
    if settings.llm_backend == "openai":
        from core.llm.openai_compat import OpenAICompatModel

        return OpenAICompatModel.connect(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key.get_secret_value(),
            model=settings.openai_model,
            timeout=settings.llm_timeout_s,
            seed=settings.llm_seed,
        )
    return build_llama(settings)


def build_llama(settings: Settings) -> LlamaCppModel:
    """The embedded model, as the settings configure it (a fresh context each call)."""
    from core.llm.llama_cpp import LlamaCppModel

    return LlamaCppModel.load(
        settings.llm_model_path,
        n_ctx=settings.llm_n_ctx,
        n_threads=settings.llm_threads,
        seed=settings.llm_seed,
        prefix_cache=settings.llm_prefix_cache,
        n_batch=settings.llm_n_batch,
        prompt_lookup=settings.llm_prompt_lookup,
        flash_attn=settings.llm_flash_attn,
    )


def model_name(settings: Settings) -> str:
    """The configured model's identity, for cache keys and run records (without loading it)."""
    if settings.llm_backend == "openai":
        return f"openai:{settings.openai_model}@{settings.openai_base_url}"
    return f"llama_cpp:{settings.llm_model_path.name}"


def lazy_model(settings: Settings) -> LazyModel:
    """The configured model, loaded only when first called."""
    return LazyModel(model_name(settings), lambda: build_model(settings))


def cached_model(settings: Settings) -> CachingChatModel:
    """The configured model behind the response cache (benchmarks and evaluations, never live
    traffic), loaded only when a call misses the cache."""
    return CachingChatModel(lazy_model(settings), settings.llm_cache_path)


def build_store(settings: Settings) -> VectorStore:
    """Chroma (embedded or a server), mirrored into the database's lexical tables when the
    lexical leg lives there."""
    if settings.chroma_mode == "http":
        store = ChromaStore.http(
            settings.chroma_host,
            settings.chroma_port,
            settings.collection,
            search_ef=settings.chroma_search_ef,
        )
    else:
        store = ChromaStore.persistent(
            settings.chroma_path, settings.collection, search_ef=settings.chroma_search_ef
        )
    if settings.lexical_index == "database":
        return MirroredStore(store, SqlLexical.connect(settings.resolved_database_url))
    return store


def build_classifier(
    settings: Settings, embedder: Embedder, taxonomy_path: Path | None = None
) -> IssueClassifier:
    return IssueClassifier.from_taxonomy(
        load_taxonomy(taxonomy_path or settings.taxonomy_path),
        embedder,
        threshold=settings.classifier_threshold,
    )


def build_profile(settings: Settings) -> Profile:
    """The business profile the settings select (``TETHER_PROFILE``; the sample by default)."""
    return load_profile(settings.profile)


def build_assistant(
    settings: PipelineSettings,
    *,
    model: ChatModel,
    embedder: Embedder,
    store: VectorStore,
    classifier: IssueClassifier,
    profile: Profile | None = None,
) -> Assistant:
    """The message path over ``store``; its lexical leg is the database's when the store is
    mirrored there (build_store), else an index in this process."""
    lexical = store.lexical if isinstance(store, MirroredStore) else None
    return Assistant(
        model=model,
        embedder=embedder,
        searcher=HybridSearcher(store, embedder, lexical=lexical),
        classifier=classifier,
        settings=settings,
        profile=profile,
    )


def assemble(
    settings: Settings,
    *,
    model: ChatModel,
    embedder: Embedder,
    vector_store: VectorStore,
    database: Database,
) -> Services:
    assistant = build_assistant(
        settings,
        model=model,
        embedder=embedder,
        store=vector_store,
        classifier=build_classifier(settings, embedder),
        profile=build_profile(settings),
    )
    desk = AgentDesk(database, load_priority_rules(settings.priority_rules_path))
    experiments = load_experiments(settings.experiments_path)
    router = ExperimentRouter(experiments, assistant) if experiments.active else None
    return Services(
        model=model,
        embedder=embedder,
        vector_store=vector_store,
        database=database,
        assistant=assistant,
        chat=ChatService(database=database, desk=desk, assistant=assistant, router=router),
        desk=desk,
        message_workers=settings.message_workers,
        message_capacity=settings.message_capacity,
    )


def build_services(settings: Settings, *, model: ChatModel | None = None) -> Services:
    """The running product: the model behind its one queue (core/llm/queue.py)."""
    return assemble(
        settings,
        model=QueuedModel(
            model or build_model(settings),
            depth=settings.model_queue_depth,
            wait_s=settings.model_wait_s,
            by_message=settings.model_queue_order == "message",
            concurrency=settings.model_concurrency if settings.llm_backend == "openai" else 1,
        ),
        embedder=build_embedder(),
        vector_store=build_store(settings),
        database=Database.connect(settings.resolved_database_url),
    )
