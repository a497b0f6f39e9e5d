"""Wiring: build the real adapters from settings; the only place that knows the backends."""

from __future__ import annotations

from dataclasses import dataclass, fields

from assistant.classify import IssueClassifier, load_taxonomy
from assistant.embeddings import Embedder, MiniLMEmbedder
from assistant.escalations.desk import AgentDesk
from assistant.escalations.priority import load_priority_rules
from assistant.experiments.config import load_experiments
from assistant.experiments.router import ExperimentRouter
from assistant.llm.base import ChatModel
from assistant.pipeline import Assistant, PipelineConfig
from assistant.service import ChatService
from assistant.settings import Settings
from assistant.storage import Database
from knowledge_base.search import HybridSearcher
from knowledge_base.store import ChromaStore, VectorStore


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

    def readiness(self) -> dict[str, bool]:
        return {
            "model": self.model.is_ready(),
            "vector_store": self.vector_store.is_ready(),
            "database": self.database.is_ready(),
        }


def build_model(settings: Settings) -> ChatModel:
    if settings.llm_backend == "openai":
        from assistant.llm.openai_compat import OpenAICompatModel

        return OpenAICompatModel.connect(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key.get_secret_value(),
            model=settings.openai_model,
            timeout=settings.llm_timeout_s,
            seed=settings.llm_seed,
        )
    from assistant.llm.llama_cpp import LlamaCppModel

    return LlamaCppModel.load(
        settings.llm_model_path,
        n_ctx=settings.llm_n_ctx,
        n_threads=settings.llm_threads,
        seed=settings.llm_seed,
    )


def model_name(settings: Settings) -> str:
    """The configured model's identity, for cache keys and run records (without loading it)."""
    if settings.llm_backend == "openai":
        return f"openai:{settings.openai_model}@{settings.openai_base_url}"
    return f"llama_cpp:{settings.llm_model_path.name}"


def pipeline_config(settings: Settings) -> PipelineConfig:
    """The message path's share of the settings (every PipelineConfig field is a setting)."""
    return PipelineConfig(**{f.name: getattr(settings, f.name) for f in fields(PipelineConfig)})


def assemble(
    settings: Settings,
    *,
    model: ChatModel,
    embedder: Embedder,
    vector_store: VectorStore,
    database: Database,
) -> Services:
    classifier = IssueClassifier.from_taxonomy(
        load_taxonomy(settings.taxonomy_path), embedder, threshold=settings.classifier_threshold
    )
    assistant = Assistant(
        model=model,
        embedder=embedder,
        searcher=HybridSearcher(vector_store, embedder),
        classifier=classifier,
        config=pipeline_config(settings),
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
    )


def build_services(settings: Settings, *, model: ChatModel | None = None) -> Services:
    return assemble(
        settings,
        model=model or build_model(settings),
        embedder=MiniLMEmbedder(),
        vector_store=ChromaStore.from_settings(settings),
        database=Database.connect(settings.resolved_database_url),
    )
