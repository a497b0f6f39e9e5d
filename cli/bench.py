"""`tether bench`: run a dataset through the whole pipeline, compare a run with a baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.settings import get_settings
from cli.common import database, fail, print_figures
from core.errors import TetherError

app = typer.Typer(help="Benchmark prompt and model changes: run, compare.")


@app.command("run")
def bench_run(
    dataset: Annotated[Path, typer.Argument(help="A folder with questions.jsonl and articles")],
    prompts: Annotated[
        str, typer.Option(help="Prompt versions, e.g. 'answer@1' or 'answer@2,judge@1'")
    ] = "",
    repeat: Annotated[int, typer.Option(min=1, help="Run each case N times; flags flaky")] = 1,
    limit: Annotated[int | None, typer.Option(help="Only the first N cases")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only cases with this tag")] = None,
    judge_scores: Annotated[bool, typer.Option(help="LLM-judge quality scores")] = True,
    cache: Annotated[bool, typer.Option(help="Reuse cached model responses")] = True,
    regressions: Annotated[
        bool | None,
        typer.Option(help="Add agents' regression cases (default: for the configured KB)"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the run JSON")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="A message-path setting for this run, e.g. evidence=focused"),
    ] = None,
    split: Annotated[
        str, typer.Option(help="all, dev or test (a hash of the case id, as for retrieval)")
    ] = "all",
    concurrency: Annotated[
        int, typer.Option(min=1, help="Cases at once, for an endpoint that serves several")
    ] = 1,
) -> None:
    """Run DATASET through the whole pipeline and store the run (JSON) for `bench compare`."""
    from core.cases import BenchmarkCase
    from evals.bench.runner import save_run
    from evals.bench.suite import parse_prompts, parse_settings, run_benchmark
    from evals.report import figures_table

    settings = get_settings()
    try:
        extra: list[BenchmarkCase] = []
        own_kb = dataset.resolve() == settings.kb_path.resolve().parent
        if regressions if regressions is not None else own_kb:
            extra = database(settings).escalations.regression_cases()
        run = run_benchmark(
            dataset,
            settings=settings,
            prompts=parse_prompts(prompts),
            repeat=repeat,
            limit=limit,
            tags=tag or [],
            judge_scores=judge_scores,
            cache=cache,
            extra_cases=extra,
            overrides=parse_settings(set_ or []),
            split=split,
            concurrency=concurrency,
        )
    except TetherError as exc:
        fail(exc)
    path = save_run(run, out or Path("runs") / f"{run.id}.json")
    print(figures_table(f"Run {run.id} ({len(run.cases)} cases)", run.aggregates))
    print(f"\nmodel calls: {run.model_calls}; flaky: {run.flaky or 'none'}; saved to {path}")
    print_figures({"run": str(path), **{k: v for k, v in run.aggregates.items() if v is not None}})


@app.command("compare")
def bench_compare(
    run: Annotated[Path, typer.Argument(help="The run to judge (JSON from bench run)")],
    baseline: Annotated[Path, typer.Argument(help="The last accepted run")],
    out_dir: Annotated[
        Path | None, typer.Option(help="Where to write report.md/.json/.html")
    ] = None,
    gate: Annotated[Path | None, typer.Option(help="Gate file (tolerances)")] = None,
) -> None:
    """Case changes, metric deltas with intervals, McNemar; exit 1 on a significant regression."""
    from evals.bench.compare import GATE, compare, load_gate
    from evals.bench.report import markdown, write_reports
    from evals.bench.runner import load_run

    try:
        candidate, base = load_run(run), load_run(baseline)
        comparison = compare(candidate, base, gate=load_gate(gate or GATE))
    except TetherError as exc:
        fail(exc)
    folder = out_dir or run.parent / f"compare-{candidate.id}-vs-{base.id}"
    paths = write_reports(comparison, folder)
    print(markdown(comparison))
    print(f"reports: {', '.join(str(p) for p in paths.values())}")
    if comparison.gate_failed:
        typer.secho(f"REGRESSION: {', '.join(comparison.regressions)}", fg="red", err=True)
        raise typer.Exit(1)
