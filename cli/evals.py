"""`tether eval`: retrieval, classification, groundedness, calibration, injection, latency,
scale."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, cast

import typer

from assistant.settings import get_settings
from cli.common import fail, print_figures
from core.errors import TetherError

app = typer.Typer(help="Measure retrieval, classification, latency.", no_args_is_help=True)


@app.command("retrieval")
def eval_retrieval(
    folder: Path,
    split: Annotated[
        str, typer.Option(help="all, dev or test (hash split of question ids)")
    ] = "all",
) -> None:
    """Recall@1, recall@5 and MRR of hybrid search on FOLDER (articles.jsonl, questions.jsonl)."""
    from evals import retrieval

    try:
        print_figures(retrieval.run(folder, split=split))
    except TetherError as exc:
        fail(exc)


@app.command("classify")
def eval_classify(folder: Path) -> None:
    """Accuracy of the issue classifier trained on FOLDER/train.csv, tested on FOLDER/test.csv."""
    # Set before torch loads its OpenMP runtime (it is not loaded yet here): by default its two
    # threads spin while they wait for each other, and on a shared machine, where one of them is
    # often preempted, that made MiniLM 3-5x slower. Banking77 on a shared 2-core machine at load
    # 5-6, back to back (2026-12-02): MiniLM 24-37 ms a message by default, 6-7 ms with PASSIVE
    # (same model, vectors equal to 2e-7); training 420 s -> 136 s (CPU 259 s -> 92 s), test
    # accuracy 0.9393 both. An OMP_WAIT_POLICY already in the environment is kept.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from evals import classification

    try:
        print_figures(classification.run(folder))
    except TetherError as exc:
        fail(exc)


@app.command("groundedness")
def eval_groundedness(
    file: Annotated[Path, typer.Argument(help="A BEGIN-format TSV (knowledge, message, ...)")],
    mode: Annotated[
        str, typer.Option(help="cosine (the baseline), tier1, judge, or cascade (the product)")
    ] = "cascade",
    limit: Annotated[int | None, typer.Option(help="Only the first N rows")] = None,
) -> None:
    """Catching ungrounded responses: precision, recall, F1, balanced accuracy, tier-2 share."""
    from assistant.pipeline.assistant import resolve_guards
    from assistant.wiring import build_embedder, cached_model
    from evals import groundedness
    from evals.report import figures_table

    if mode not in ("cosine", "tier1", "judge", "cascade"):
        typer.secho("error: --mode must be cosine, tier1, judge or cascade", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    try:
        guards = resolve_guards(settings)
        figures = groundedness.evaluate(
            file,
            mode=cast(groundedness.Mode, mode),
            embedder=build_embedder(),
            model=cached_model(settings) if mode in ("judge", "cascade") else None,
            calibration=guards.calibration,
            grounding_prompt=guards.grounding_prompt,
            judge_prompt=guards.judge_prompt,
            limit=limit,
        )
    except (TetherError, OSError) as exc:
        fail(TetherError(str(exc)))
    print(figures_table(f"Groundedness on {file.name} ({mode})", figures))
    print_figures({"file": file.name, "mode": mode, **figures})


@app.command("calibrate")
def eval_calibrate(
    file: Annotated[Path, typer.Argument(help="A BEGIN-format TSV to tune the thresholds on")],
    out: Annotated[
        Path | None, typer.Option(help="Where to write them (default: the configured file)")
    ] = None,
) -> None:
    """Tune the guardrail thresholds on one labelled file and write them with where they came
    from; evaluate on other files (`tether eval groundedness`)."""
    from assistant.pipeline.assistant import resolve_guards
    from assistant.wiring import build_embedder, cached_model
    from evals import groundedness
    from evals.report import figures_table
    from guardrails.calibration import BUNDLED, save_calibration

    settings = get_settings()
    configured = settings.guardrails_calibration
    target = out or (configured if isinstance(configured, Path) else BUNDLED)
    try:
        calibration = groundedness.calibrate(
            file,
            embedder=build_embedder(),
            model=cached_model(settings),
            grounding_prompt=resolve_guards(settings).grounding_prompt,
        )
        save_calibration(calibration, target)
    except (TetherError, OSError) as exc:
        fail(TetherError(str(exc)))
    thresholds = calibration.model_dump(exclude={"dev_figures", "calibrated_on", "date", "command"})
    print(figures_table(f"Thresholds from {file.name}, written to {target}", thresholds))
    print_figures({"file": file.name, **thresholds, **calibration.dev_figures})


@app.command("injection")
def eval_injection(
    data: Annotated[
        Path | None, typer.Argument(help="Folder with tensortrust/ and xstest/ (../shared/data)")
    ] = None,
    split: Annotated[str, typer.Option(help="test (reported), dev (tuning) or all")] = "test",
) -> None:
    """Share of Tensor Trust attacks stopped; share of XSTest safe prompts blocked."""
    from evals import injection

    try:
        figures = injection.run(
            data or injection.DEFAULT_DATA_DIR, split=cast(injection.Split, split)
        )
        print_figures(figures)
    except TetherError as exc:
        fail(exc)


@app.command("latency")
def eval_latency(
    questions: Annotated[Path | None, typer.Option(help="questions.jsonl")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions")] = None,
    customers: Annotated[
        int, typer.Option(min=0, help="Customers asking at once (0: skip that run)")
    ] = 4,
    lever: Annotated[
        list[str] | None,
        typer.Option(help="Measure one lever on its own: SETTING=VALUE, e.g. llm_n_batch=128"),
    ] = None,
) -> None:
    """Time to the first verified sentence and to the full reply on the real model, against the
    previous configuration in the same run (or the configured one without ``--lever``); then
    with several customers at once."""
    from evals import latency
    from evals.bench.suite import parse_settings

    try:
        levers = parse_settings(lever or [])
        print_figures(
            latency.run(questions, limit=limit, customers=customers, lever=levers or None)
        )
    except TetherError as exc:
        fail(exc)


@app.command("scale")
def eval_scale(
    chunks: Annotated[int, typer.Option(min=1, help="Chunks in the corpus")],
    vectors: Annotated[
        str, typer.Option(help="minilm (the real embedder) or synthetic (no model)")
    ] = "minilm",
    chroma: Annotated[str, typer.Option(help="embedded, http (a Chroma server) or memory")] = (
        "embedded"
    ),
    host: Annotated[str, typer.Option(help="The Chroma server's host (--chroma http)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="The Chroma server's port (--chroma http)")] = 8000,
    queries: Annotated[int, typer.Option(min=1, help="Questions asked of each leg")] = 200,
    seed: int = 0,
) -> None:
    """Ingest, dense-leg latency and recall@10, lexical-leg memory and speed, hybrid search at
    CHUNKS chunks of the e-manual and the sample repeated with variation (evals/scale)."""
    from evals.scale.__main__ import report
    from evals.scale.run import StoreKind, VectorKind, run

    if vectors not in ("minilm", "synthetic") or chroma not in ("embedded", "http", "memory"):
        typer.secho("error: --vectors minilm|synthetic, --chroma embedded|http|memory", err=True)
        raise typer.Exit(2)
    try:
        figures = run(
            chunks,
            store_kind=cast(StoreKind, chroma),
            vectors=cast(VectorKind, vectors),
            n_queries=queries,
            host=host,
            port=port,
            seed=seed,
        )
    except TetherError as exc:
        fail(exc)
    print(report(figures))
    print_figures(figures)
