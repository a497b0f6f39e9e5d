"""The benchmark on the real stack: a dataset folder, the configured model behind the response
cache, Chroma on disk, MiniLM. ``tether bench run`` calls :func:`run_benchmark`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from assistant.pipeline.assistant import Assistant, resolve_guards
from assistant.pipeline.settings import PipelineSettings
from assistant.settings import Settings
from assistant.wiring import build_assistant, build_classifier, build_embedder, lazy_model
from core.cases import BenchmarkCase, load_cases
from core.embeddings import Embedder
from core.errors import ConfigurationError
from core.llm.base import ChatModel
from core.llm.cache import CachingChatModel
from core.prompts import parse_ref, resolve_prompt
from evals.bench.runner import Run, RunConfig, Stopwatch, git_commit, make_run, run_cases
from evals.retrieval import dataset_articles, split_of
from knowledge_base.ingest import ingest
from knowledge_base.store import ChromaStore

PROMPT_FIELDS = ("answer", "judge", "grounding", "condense")
# A filter confidence no classification reaches: search every article.
NEVER_FILTER = 1.01


def parse_prompts(spec: str) -> dict[str, str]:
    """``"answer@1,judge@1"`` -> ``{"answer": "answer@1", "judge": "judge@1"}``."""
    prompts: dict[str, str] = {}
    for ref in (part.strip() for part in spec.split(",") if part.strip()):
        name, _ = parse_ref(ref)
        if name not in (*PROMPT_FIELDS, "score"):
            known = ", ".join((*PROMPT_FIELDS, "score"))
            raise ConfigurationError(f"unknown prompt {name!r}: use {known}")
        prompts[name] = ref
    return prompts


def prompt_settings(prompts: dict[str, str]) -> dict[str, object]:
    """``{"answer": "answer@1"}`` -> the setting it overrides: ``{"answer_prompt": "answer@1"}``."""
    return {f"{name}_prompt": ref for name, ref in prompts.items() if name in PROMPT_FIELDS}


def dataset_cases(
    folder: Path, *, tags: list[str], limit: int | None, split: str = "all"
) -> list[BenchmarkCase]:
    """The folder's cases with any of ``tags``, of one split (a hash of the case id, as the
    retrieval evaluation splits questions: dev for tuning, test for reporting), the first
    ``limit`` of them: a fixed sample."""
    path = folder / "questions.jsonl"
    if not path.is_file():
        raise ConfigurationError(f"{folder} has no questions.jsonl")
    if split not in ("all", "dev", "test"):
        raise ConfigurationError(f"unknown split {split!r}: use all, dev or test")
    cases = load_cases(path)
    if tags:
        cases = [c for c in cases if set(c.tags) & set(tags)]
    if split != "all":
        cases = [c for c in cases if split_of(c.id) == split]
    return cases[:limit]


def parse_settings(pairs: Sequence[str]) -> dict[str, object]:
    """``["evidence=focused", "evidence_sentences=6"]`` -> message-path overrides (each is
    checked as its setting when applied)."""
    overrides: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"a setting is KEY=VALUE, not {pair!r}")
        overrides[key.strip()] = value.strip()
    return overrides


def run_benchmark(
    folder: Path,
    *,
    settings: Settings,
    prompts: dict[str, str],
    repeat: int = 1,
    limit: int | None = None,
    tags: list[str] | None = None,
    judge_scores: bool = True,
    cache: bool = True,
    extra_cases: list[BenchmarkCase] | None = None,
    overrides: dict[str, object] | None = None,
    split: str = "all",
    model: ChatModel | None = None,
    embedder: Embedder | None = None,
    progress: bool = True,
    concurrency: int = 1,
) -> Run:
    watch = Stopwatch()
    cases = dataset_cases(folder, tags=tags or [], limit=limit, split=split)
    cases += list(extra_cases or [])
    embedder = embedder or build_embedder()
    store = dataset_store(folder, settings, embedder, progress=progress)
    inner = model or lazy_model(settings)
    cached = CachingChatModel(inner, settings.llm_cache_path) if cache else None
    overrides = {**(overrides or {}), **prompt_settings(prompts)}
    taxonomy = folder / "taxonomy.yaml"
    if not taxonomy.is_file():
        # No taxonomy for this dataset: classify with the configured one, but never let it
        # narrow the search (its issue types are another business's).
        overrides["filter_confidence"] = NEVER_FILTER
    config = settings.updated(overrides)
    classifier = build_classifier(settings, embedder, taxonomy if taxonomy.is_file() else None)

    def model_for(repeat_index: int) -> ChatModel:
        if cached is None:
            return inner
        return cached if repeat_index == 0 else cached.with_namespace(f"repeat-{repeat_index}")

    def make_assistant(repeat_index: int) -> Assistant:
        return build_assistant(
            config,
            model=model_for(repeat_index),
            embedder=embedder,
            store=store,
            classifier=classifier,
        )

    score = prompts.get("score", "score@1") if judge_scores else None
    scorer = (model_for(0), resolve_prompt(score, settings.prompts_dir)) if score else None
    results = run_cases(
        cases,
        make_assistant,
        embedder=embedder,
        scorer=scorer,
        repeat=repeat,
        progress=progress,
        concurrency=concurrency,
    )
    calls = cached.counts() if cached else {}
    if cached is not None:
        cached.close()
    run_config = RunConfig(
        dataset=str(folder),
        prompts=_prompts_used(config, score),
        model=inner.name,
        settings=_settings_used(settings, config),
        repeat=repeat,
        judge_scores=judge_scores,
        commit=git_commit(),
    )
    return make_run(results, run_config, model_calls=calls, duration_s=watch.elapsed)


def dataset_store(
    folder: Path, settings: Settings, embedder: Embedder, *, progress: bool
) -> ChromaStore:
    """The dataset's articles in a Chroma collection of their own (ingested incrementally)."""
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:10]
    store = ChromaStore.persistent(settings.data_dir / "bench" / digest / "chroma", "bench")
    ingest(dataset_articles(folder), store=store, embedder=embedder, progress=progress)
    return store


def _prompts_used(config: PipelineSettings, score: str | None) -> dict[str, str]:
    return {
        "answer": config.answer_prompt,
        "judge": config.judge_prompt,
        "grounding": config.grounding_prompt,
        "condense": config.condense_prompt,
        **({"score": score} if score else {}),
    }


def _settings_used(settings: Settings, config: PipelineSettings) -> dict[str, object]:
    return {
        "llm_backend": settings.llm_backend,
        "retrieval_k": config.retrieval_k,
        "max_sections": config.max_sections,
        "min_retrieval_score": config.min_retrieval_score,
        "filter_confidence": config.filter_confidence,
        "condense": config.condense,
        "evidence": config.evidence,
        "evidence_sentences": config.evidence_sentences,
        "guardrails": resolve_guards(config).calibration.model_dump(
            include={"similarity", "coverage", "coverage_floor", "judge", "window"}
        ),
        "prompts_dir": str(settings.prompts_dir) if settings.prompts_dir else None,
    }
