"""`tether init DIR` (a new business profile) and `tether check DIR` (is it sound?)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import fail
from core.errors import TetherError


def _print_report(directory: Path) -> bool:
    """The check's findings, one a line, then a summary; whether it passed."""
    from assistant.profiles.check import check_profile

    report = check_profile(directory)
    for problem in report.problems:
        color = typer.colors.YELLOW if problem.warning else typer.colors.RED
        typer.secho(problem.line(), fg=color, err=True)
    if not report.ok:
        typer.secho(f"{directory}: {len(report.errors)} error(s)", fg=typer.colors.RED, err=True)
        return False
    profile = report.profile
    assert profile is not None  # a report without errors has its profile
    languages = ", ".join(str(lang) for lang in profile.languages)
    typer.echo(
        f"ok: {profile.name} ({directory}): {report.articles} articles, "
        f"{report.issue_types} issue types, languages {languages}"
    )
    return True


def check(
    directory: Annotated[Path, typer.Argument(help="A profile folder (with profile.yaml)")],
) -> None:
    """Check a business profile: its profile.yaml, knowledge base, taxonomy, priorities,
    compliance policy, prompts and questions. Exit code 1 when anything is wrong."""
    if not _print_report(directory):
        raise typer.Exit(1)


def init(
    directory: Annotated[Path, typer.Argument(help="A new (or empty) folder")],
    name: Annotated[str, typer.Option(help="The business's name, as prompts say it")] = "Acme",
    customers: Annotated[str, typer.Option(help="Who writes in")] = "customers",
) -> None:
    """Write a new business profile with a short example of each file, then check it."""
    from assistant.profiles.scaffold import scaffold

    try:
        written = scaffold(directory, name=name, customers=customers)
    except TetherError as exc:
        fail(exc)
    for path in written:
        typer.echo(f"wrote {path}")
    if not _print_report(directory):
        raise typer.Exit(1)
    typer.echo(f"use it: export TETHER_PROFILE={directory}; tether ingest; tether serve")
