"""Latency of the message path on the real embedded stack, against the previous configuration in
the same run (these machines are shared and their speed varies, so only ratios measured side by
side mean anything).

For every sample question, the previous configuration (``PREVIOUS``: the JSON chain-of-thought
prompt over whole sections, no prefix cache) and the configured one answer in turn, each
streamed: the time to the first verified sentence (the first that reached the customer) and to
the full reply are recorded. Then both answer groups of ``customers`` questions at once, through
the one model queue, as several customers would. The machine's raw prefill and decode speed is
printed first, and the share of questions both sides answered with the same text (a speed lever
must not change it). The last line is one JSON object.

With ``lever`` (``tether eval latency --lever llm_n_batch=128``), one speed lever is measured on
its own: "previous" is the configured settings as they are, "current" the same with the lever
changed, each on a model of its own; everything else is equal. Both sides also answer the
groups of customers at once (a lever such as ``model_queue_order=call`` shows only there);
``customers=0`` skips those runs.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from tqdm import tqdm

from assistant.pipeline.assistant import Assistant
from assistant.pipeline.streaming import Progress, Sentence
from assistant.settings import SAMPLE_KB, Settings, get_settings
from assistant.wiring import build_assistant, build_classifier, build_embedder, build_llama
from core.conversation import Turn
from core.errors import ConfigurationError
from core.llm.queue import QueuedModel
from evals.report import table
from evals.retrieval import load_questions
from knowledge_base.articles import load_articles
from knowledge_base.ingest import ingest
from knowledge_base.store import ChromaStore

# The message path before issue 13: reasoning then JSON, over whole sections.
PREVIOUS: Mapping[str, object] = {"answer_prompt": "answer@2", "evidence": "sections"}


class Timing(BaseModel):
    first_sentence_s: float | None  # None: nothing reached the customer (handed over)
    full_s: float
    answered: bool
    text: str = ""


def _timed(assistant: Assistant, turns: Sequence[Turn]) -> Timing:
    start = time.perf_counter()
    first: list[float] = []

    def on_event(event: Progress | Sentence) -> None:
        if isinstance(event, Sentence) and not first:
            first.append(time.perf_counter() - start)

    reply = assistant.reply_to(assistant.screen(turns), on_event)
    return Timing(
        first_sentence_s=first[0] if first else None,
        full_s=time.perf_counter() - start,
        answered=reply.answered,
        text=reply.text,
    )


def _percentiles(values: Sequence[float], name: str) -> dict[str, float]:
    if not values:
        return {}
    return {
        f"{name}_p50_s": round(float(np.percentile(values, 50)), 2),
        f"{name}_p95_s": round(float(np.percentile(values, 95)), 2),
    }


def _figures(timings: Sequence[Timing], name: str) -> dict[str, float]:
    # A reply handed over before any sentence counts its full time as its first-sentence time:
    # that is when the customer first reads something.
    first = [t.first_sentence_s if t.first_sentence_s is not None else t.full_s for t in timings]
    return {
        **_percentiles(first, f"{name}_first_sentence"),
        **_percentiles([t.full_s for t in timings], f"{name}_full"),
        f"{name}_answered": round(sum(t.answered for t in timings) / max(len(timings), 1), 3),
    }


def _concurrent(assistant: Assistant, groups: Sequence[Sequence[Sequence[Turn]]]) -> list[Timing]:
    timings: list[Timing] = []
    lock = threading.Lock()

    def one(turns: Sequence[Turn]) -> None:
        timing = _timed(assistant, turns)
        with lock:
            timings.append(timing)

    for group in tqdm(groups, desc="customers at once"):
        threads = [threading.Thread(target=one, args=(turns,)) for turns in group]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return timings


def with_lever(settings: Settings, lever: Mapping[str, object]) -> Settings:
    """``settings`` with the lever's settings changed, each checked as the setting it names."""
    unknown = sorted(set(lever) - set(Settings.model_fields))
    if unknown:
        raise ConfigurationError(f"{unknown} are not settings")
    try:
        return Settings.model_validate({**settings.model_dump(), **lever})
    except ValueError as exc:
        raise ConfigurationError(f"invalid lever {dict(lever)}: {exc}") from exc


def _sides(settings: Settings, lever: Mapping[str, object] | None) -> dict[str, Settings]:
    """The two configurations timed side by side: before issue 13 (its prompt and evidence, no
    prefix cache or prompt lookup) and the configured one; or, for a lever, the configured one
    without and with it."""
    if lever:
        return {"previous": settings, "current": with_lever(settings, lever)}
    before = settings.updated(PREVIOUS).model_copy(
        update={"llm_prefix_cache": False, "llm_prompt_lookup": 0}
    )
    return {"previous": before, "current": settings}


def run(
    questions: Path | None = None,
    *,
    limit: int | None = None,
    customers: int = 4,
    settings: Settings | None = None,
    lever: Mapping[str, object] | None = None,
) -> dict[str, float]:
    settings = settings or get_settings()
    cases = load_questions(questions or SAMPLE_KB / "questions.jsonl")[:limit]
    embedder = build_embedder()
    sides = _sides(settings, lever)
    # Each configuration has a context of its own, so each keeps what it would keep alone.
    models = {name: build_llama(side) for name, side in sides.items()}
    speed = models["current"].speed(prompt_tokens=400, decode_tokens=48)
    figures: dict[str, float] = {"n": float(len(cases)), **speed}
    with tempfile.TemporaryDirectory() as tmp:
        store = ChromaStore.persistent(Path(tmp) / "chroma", "latency")
        ingest(load_articles(settings.kb_path), store=store, embedder=embedder, progress=False)
        classifier = build_classifier(settings, embedder)

        def assistant(name: str) -> Assistant:
            return build_assistant(
                sides[name],
                model=QueuedModel(
                    models[name],
                    depth=max(customers, 1) * 4,
                    by_message=sides[name].model_queue_order == "message",
                ),
                embedder=embedder,
                store=store,
                classifier=classifier,
            )

        previous, current = assistant("previous"), assistant("current")
        timings: dict[str, list[Timing]] = {"previous": [], "current": []}
        for case in tqdm(cases, desc="previous and current, in turn"):
            timings["previous"].append(_timed(previous, case.turns()))
            timings["current"].append(_timed(current, case.turns()))
        if customers:
            turns = [c.turns() for c in cases]
            groups = [turns[i : i + customers] for i in range(0, len(turns), customers)]
            timings["previous_concurrent"] = _concurrent(previous, groups)
            timings["concurrent"] = _concurrent(current, groups)
    for name, measured in timings.items():
        figures.update(_figures(measured, name))
    # A speed lever must not change what the customer reads (temperature 0, same seed).
    pairs = list(zip(timings["previous"], timings["current"], strict=True))
    figures["same_reply_share"] = round(sum(a.text == b.text for a, b in pairs) / len(pairs), 3)
    _ratios(figures)
    _print(figures, sides, customers, lever)
    return figures


def _ratios(figures: dict[str, float]) -> None:
    """Each bar of issue 13, as a ratio to the previous configuration's full reply one customer
    at a time; and the customers at once against the same customers on the previous side."""
    for what in ("first_sentence_p50", "first_sentence_p95", "full_p50"):
        before = figures.get(f"previous_concurrent_{what}_s")
        if before and f"concurrent_{what}_s" in figures:
            figures[f"concurrent_vs_previous_concurrent_{what}_ratio"] = round(
                figures[f"concurrent_{what}_s"] / before, 3
            )
    for run_name in ("current", "concurrent"):
        for what, base in (("first_sentence_p50", "full_p50"), ("first_sentence_p95", "full_p95")):
            key = f"{run_name}_{what}_s"
            if key in figures and figures.get(f"previous_{base}_s"):
                figures[f"{run_name}_{what}_ratio"] = round(
                    figures[key] / figures[f"previous_{base}_s"], 3
                )
        if figures.get("previous_full_p50_s") and f"{run_name}_full_p50_s" in figures:
            figures[f"{run_name}_full_p50_ratio"] = round(
                figures[f"{run_name}_full_p50_s"] / figures["previous_full_p50_s"], 3
            )


def _labels(
    sides: Mapping[str, Settings], customers: int, lever: Mapping[str, object] | None
) -> list[tuple[str, str]]:
    current = sides["current"]
    if lever:
        changed = ", ".join(f"{k}={v}" for k, v in lever.items())
        labels = [("previous", "configured"), ("current", f"configured with {changed}")]
    else:
        labels = [
            ("previous", f"previous ({PREVIOUS['answer_prompt']}, sections, no prefix cache)"),
            ("current", f"configured ({current.answer_prompt}, {current.evidence})"),
        ]
    if customers:
        at_once = f"{customers} customers at once"
        labels += [
            ("previous_concurrent", f"{labels[0][1]}, {at_once}"),
            ("concurrent", f"{labels[1][1]}, {at_once}"),
        ]
    return labels


def _print(
    figures: Mapping[str, float],
    sides: Mapping[str, Settings],
    customers: int,
    lever: Mapping[str, object] | None,
) -> None:
    current = sides["current"]
    print(
        f"machine: prefill {figures['prefill_tokens_per_s']:.0f} tokens/s, "
        f"decode {figures['decode_tokens_per_s']:.1f} tokens/s "
        f"({current.llm_threads} threads, batch {current.llm_n_batch})"
    )
    rows = []
    for name, label in _labels(sides, customers, lever):
        rows.append(
            (
                label,
                figures.get(f"{name}_first_sentence_p50_s"),
                figures.get(f"{name}_first_sentence_p95_s"),
                figures.get(f"{name}_full_p50_s"),
                figures.get(f"{name}_full_p95_s"),
                figures.get(f"{name}_answered"),
            )
        )
    print(
        table(
            f"Seconds over {int(figures['n'])} questions",
            rows,
            ("configuration", "first p50", "first p95", "full p50", "full p95", "answered"),
        )
    )
    ratios = {k: v for k, v in figures.items() if k.endswith("_ratio")}
    print(table("Ratios to the previous side", sorted(ratios.items()), ("ratio", "value")))
    print(f"same reply on both sides: {figures['same_reply_share']:.0%} of the questions")
