"""What every command shares: how it fails, how it prints its figures, the database."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, NoReturn

import typer

from assistant.settings import Settings
from core.errors import TetherError

if TYPE_CHECKING:
    from assistant.storage import Database


def fail(exc: TetherError) -> NoReturn:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2) from exc


def print_figures(figures: Mapping[str, object]) -> None:
    """A blank line, then the figures as one JSON object: the last line a benchmark prints."""
    print()
    print(json.dumps(figures))


def database(settings: Settings) -> Database:
    from assistant.storage import Database

    return Database.connect(settings.resolved_database_url)
