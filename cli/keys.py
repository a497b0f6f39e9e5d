"""`tether keys` (API keys, stored hashed) and `tether cases` (regression cases)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.settings import get_settings
from cli.common import database, fail
from core.errors import TetherError

app = typer.Typer(help="API keys: create, list, revoke (stored hashed).", no_args_is_help=True)
cases_app = typer.Typer(help="Benchmark cases written from resolved escalations.")


@app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="The agent, admin or customer client it speaks for")],
    role: Annotated[str, typer.Option(help="customer, agent or admin")] = "agent",
) -> None:
    """Make a key and print its secret (the only time it is shown)."""
    from assistant.storage.keys import Role

    if role not in {r.value for r in Role}:
        typer.secho(f"error: role must be customer, agent or admin, not {role!r}", err=True)
        raise typer.Exit(2)
    try:
        issued = database(get_settings()).keys.create(name, Role(role))
    except (TetherError, ValueError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{issued.key.role} key for {issued.key.name} (id {issued.key.id}):")
    typer.echo(issued.secret)


@app.command("list")
def keys_list(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys")] = False,
) -> None:
    """Keys by id, name, role and prefix; never the secrets."""
    try:
        keys = database(get_settings()).keys.all(include_revoked=all_keys)
    except TetherError as exc:
        fail(exc)
    for key in keys:
        state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
        typer.echo(f"{key.id}  {key.name:<20} {key.role:<9} {key.prefix}...  {state}")


@app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="A key id, or a name: all its keys")],
) -> None:
    """Revoke keys and end their console sessions. The last active admin key is never revoked
    (exit 2): make another admin key first."""
    try:
        revoked = database(get_settings()).keys.revoke(key)
    except TetherError as exc:
        fail(exc)
    for item in revoked:
        typer.echo(f"revoked {item.id} ({item.name}, {item.role})")


@cases_app.command("export")
def cases_export(path: Annotated[Path, typer.Argument(help="A .jsonl file to write")]) -> None:
    """Write the regression cases agents recorded to PATH, in the benchmark case format."""
    from core.cases import write_cases

    try:
        cases = database(get_settings()).escalations.regression_cases()
    except TetherError as exc:
        fail(exc)
    count = write_cases(cases, path)
    typer.echo(f"{count} regression cases written to {path}")
