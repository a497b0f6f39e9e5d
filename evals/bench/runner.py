"""Run benchmark cases through the whole pipeline and keep everything a comparison needs.

A run is a JSON file: the configuration (dataset, prompts, model, settings, commit), and per case
the outputs, the verdict, every metric and the pass/fail of each repeat. With ``repeat > 1``
every repeat after the first uses a cache key space of its own, so the model really runs again
and cases whose verdict changes are listed as flaky.
"""

from __future__ import annotations

import logging
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from tqdm import tqdm

from assistant.pipeline.assistant import Assistant
from assistant.pipeline.reply import Reply
from core.cases import BenchmarkCase
from core.conversation import Turn
from core.embeddings import Embedder
from core.llm.base import ChatModel
from core.prompts import Prompt
from evals.bench.evaluators import METRICS, evaluate_case
from evals.bench.metrics import CaseOutcome, case_passed, mean_of
from evals.bench.scoring import score_answer
from evals.stats import flaky_cases

log = logging.getLogger(__name__)


class CaseResult(BaseModel):
    id: str
    tags: list[str]
    expect: str
    outcome: CaseOutcome
    metrics: dict[str, float | None]
    passed: bool
    repeats: list[bool] = Field(default_factory=list)
    # Why an evaluator gave its value, where it said (a crash of the pipeline or of an
    # evaluator included).
    reasons: dict[str, str] = Field(default_factory=dict)


class RunConfig(BaseModel):
    dataset: str
    prompts: dict[str, str]
    model: str
    settings: dict[str, Any] = Field(default_factory=dict)
    repeat: int = 1
    judge_scores: bool = True
    commit: str | None = None


class Run(BaseModel):
    id: str
    created_at: datetime
    config: RunConfig
    cases: list[CaseResult]
    aggregates: dict[str, float | None]
    flaky: list[str] = Field(default_factory=list)
    model_calls: dict[str, int] = Field(default_factory=dict)
    duration_s: float = 0.0

    def case(self, case_id: str) -> CaseResult:
        return next(c for c in self.cases if c.id == case_id)


def as_turns(case: BenchmarkCase) -> list[Turn]:
    return [
        Turn(role="customer" if t.role in ("user", "customer") else t.role, text=t.text)
        for t in case.turns
    ]


def outcome_of(reply: Reply) -> CaseOutcome:
    return CaseOutcome(
        answered=reply.answered,
        answer=reply.text if reply.answered else "",
        withheld_answer=reply.withheld_answer,
        citations=[c.article_id for c in reply.citations],
        issue_type=reply.classification.issue_type,
        core_issue=reply.core_issue,
        passages=[p.article_id for p in reply.passages],
        reasons=[str(r) for r in reply.verdict.reasons],
        tier=reply.verdict.tier,
        latency_ms=round(reply.latency_ms.get("total", 0.0), 1),
        tokens=reply.prompt_tokens + reply.completion_tokens,
        decline_probability=reply.decline_probability,
        retrieval_best=reply.retrieval_best,
        question_similarity=reply.signals.question_similarity if reply.signals else None,
        answer_confidence=reply.answer_confidence,
    )


def similarity(embedder: Embedder, answer: str, reference: str) -> float | None:
    if not answer.strip() or not reference.strip():
        return None
    vectors = embedder.embed_batch([answer, reference])
    return round(float(np.dot(vectors[0], vectors[1])), 4)


def _respond(assistant: Assistant, turns: list[Turn]) -> tuple[CaseOutcome, Reply | None]:
    """What the pipeline did; a crash is recorded on the case and the run goes on."""
    try:
        reply = assistant.respond(turns)
    except Exception as exc:
        log.exception("benchmark case crashed")
        error = f"{type(exc).__name__}: {exc}"
        return CaseOutcome(answered=False, issue_type="unknown", error=error), None
    return outcome_of(reply), reply


def _run_case(
    case: BenchmarkCase,
    assistants: Sequence[Assistant],
    *,
    embedder: Embedder,
    scorer: tuple[ChatModel, Prompt] | None,
) -> CaseResult:
    turns = as_turns(case)
    replies = [_respond(assistant, turns) for assistant in assistants]
    repeats = [case_passed(case, o) and o.error is None for o, _ in replies]
    outcome, reply = replies[0]
    if outcome.answered and reply is not None:
        outcome.answer_similarity = similarity(embedder, outcome.answer, case.reference_answer)
        if scorer is not None:
            model, prompt = scorer
            outcome.judge_scores = (
                score_answer(
                    model,
                    prompt,
                    question=outcome.core_issue,
                    answer=outcome.answer,
                    reference=case.reference_answer,
                    passages=reply.passages,
                )
                or {}
            )
    evaluation = evaluate_case(case, outcome)
    return CaseResult(
        id=case.id,
        tags=case.tags,
        expect=case.expect,
        outcome=outcome,
        metrics=evaluation.metrics,
        passed=repeats[0],
        repeats=repeats,
        reasons=evaluation.reasons,
    )


def run_cases(
    cases: Sequence[BenchmarkCase],
    make_assistant: Callable[[int], Assistant],
    *,
    embedder: Embedder,
    scorer: tuple[ChatModel, Prompt] | None = None,
    repeat: int = 1,
    progress: bool = True,
    concurrency: int = 1,
) -> list[CaseResult]:
    """Every case through the pipeline ``repeat`` times; metrics from the first repeat.

    ``concurrency`` cases run at once (for a remote endpoint that answers several requests at
    a time): each case's work is its own, and the results keep the cases' order, so a run
    gives the same results at any concurrency (the model answers at temperature 0, and the
    response cache keys each call by its prompt)."""
    if repeat < 1 or concurrency < 1:
        raise ValueError("repeat and concurrency must be at least 1")
    assistants = [make_assistant(r) for r in range(repeat)]
    with (
        tqdm(total=len(cases), desc="benchmark", unit="case", disable=not progress) as bar,
        ThreadPoolExecutor(concurrency, thread_name_prefix="bench-case") as pool,
    ):

        def one(case: BenchmarkCase) -> CaseResult:
            result = _run_case(case, assistants, embedder=embedder, scorer=scorer)
            bar.update(1)
            return result

        return list(pool.map(one, cases))


def aggregate(results: Sequence[CaseResult]) -> dict[str, float | None]:
    figures: dict[str, float | None] = {"n": float(len(results))}
    for name in METRICS:
        value = mean_of([r.metrics.get(name) for r in results])
        figures[name] = None if value is None else round(value, 4)
    latencies = [r.outcome.latency_ms for r in results]
    if latencies:
        figures["latency_p50_ms"] = round(float(np.percentile(latencies, 50)), 1)
        figures["latency_p95_ms"] = round(float(np.percentile(latencies, 95)), 1)
    figures["escalation_rate"] = round(
        sum(not r.outcome.answered for r in results) / max(len(results), 1), 4
    )
    return figures


def make_run(
    results: list[CaseResult],
    config: RunConfig,
    *,
    model_calls: dict[str, int] | None = None,
    duration_s: float = 0.0,
) -> Run:
    return Run(
        id=f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}",
        created_at=datetime.now(UTC),
        config=config,
        cases=results,
        aggregates=aggregate(results),
        flaky=flaky_cases({r.id: r.repeats for r in results}),
        model_calls=model_calls or {},
        duration_s=round(duration_s, 1),
    )


def save_run(run: Run, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run.model_dump_json(indent=1), encoding="utf-8")
    return path


def load_run(path: Path) -> Run:
    from core.errors import ConfigurationError

    try:
        return Run.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path} is not a benchmark run: {exc}") from exc


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start
