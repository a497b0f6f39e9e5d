"""`tether experiment` (online experiments) and `tether monitor` (quality on live traffic)."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.settings import get_settings
from cli.common import database, fail, print_figures
from core.errors import TetherError

experiment_app = typer.Typer(help="Online experiments: list, analyze.", no_args_is_help=True)
monitor_app = typer.Typer(help="Quality monitoring on live traffic.", no_args_is_help=True)


@experiment_app.command("list")
def experiment_list() -> None:
    """The configured experiments (TETHER_EXPERIMENTS_PATH) and their exposures so far."""
    from assistant.experiments.config import load_experiments

    settings = get_settings()
    try:
        experiments = load_experiments(settings.experiments_path)
        db = database(settings)
        for e in experiments.experiments:
            shares = ", ".join(f"{n} {s:.0%}" for n, s in e.shares.items())
            state = "active" if e.active else "stopped"
            exposed = db.experiments.exposures(e.id)
            typer.echo(f"{e.id} ({state}, by {e.unit}): {shares}; exposed {exposed or 'none yet'}")
    except TetherError as exc:
        fail(exc)


@experiment_app.command("analyze")
def experiment_analyze(
    experiment_id: Annotated[str, typer.Argument(help="The experiment's id")],
    control: Annotated[str | None, typer.Option(help="The reference variant")] = None,
    aa: Annotated[
        bool | None, typer.Option("--aa/--ab", help="Treat as A/A (default: same settings)")
    ] = None,
    alpha: Annotated[float, typer.Option(help="Significance level")] = 0.05,
) -> None:
    """Sample-ratio check, escalation and resolution rates with intervals, guardrails."""
    from assistant.experiments.config import load_experiments
    from evals.experiments import analyze, report

    settings = get_settings()
    try:
        experiment = load_experiments(settings.experiments_path).get(experiment_id)
        db = database(settings)
        analysis = analyze(
            experiment,
            db.experiments.exposures(experiment_id),
            db.experiments.outcomes(experiment_id),
            control=control,
            alpha=alpha,
            aa=aa,
        )
    except TetherError as exc:
        fail(exc)
    print(report(analysis))
    print_figures(
        {
            "experiment": experiment_id,
            "srm_p": analysis.srm.p_value,
            "clean": analysis.clean,
            **{f"{v.variant}_escalation_rate": v.escalation_rate for v in analysis.variants},
            **{f"{v.variant}_resolution_rate": v.resolution_rate for v in analysis.variants},
        }
    )


@monitor_app.command("run")
def monitor_run(
    share: Annotated[float | None, typer.Option(help="Share of finished conversations")] = None,
) -> None:
    """Score a random share of finished conversations with the judge; check for drift. A run
    started while another runs (here or on another replica) says so and exits with 0."""
    from datetime import timedelta

    from assistant.monitoring.logs import configure
    from assistant.monitoring.quality import run_monitor
    from assistant.storage.locks import AlreadyRunning
    from assistant.wiring import lazy_model
    from core.prompts import resolve_prompt

    configure()
    settings = get_settings()
    try:
        report = run_monitor(
            database(settings),
            lazy_model(settings),
            resolve_prompt(settings.monitor_prompt, settings.prompts_dir),
            share=settings.monitor_share if share is None else share,
            finished_minutes=settings.monitor_finished_minutes,
            recent=timedelta(hours=settings.drift_recent_hours),
            reference=timedelta(days=settings.drift_reference_days),
        )
    except TetherError as exc:
        fail(exc)
    if isinstance(report, AlreadyRunning):
        typer.echo(f"not run: {report.message}")
        print_figures({"already_running": True, "holder": report.holder})
        return
    for result in report.drift:
        state = "DRIFT" if result.drifted else "stable"
        typer.echo(
            f"{result.feature}: {state} (p {result.p_value:.3g}, JSD {result.jsd:.3f}, "
            f"{result.n_reference} reference vs {result.n_recent} recent)"
        )
    print_figures(
        {
            **report.model_dump(exclude={"drift"}),
            "drifted": [r.feature for r in report.drift if r.drifted],
        }
    )
