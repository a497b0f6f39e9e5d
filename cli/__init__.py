"""The ``tether`` command line: the top layer, which may use every package below it."""

from __future__ import annotations

import typer

from cli import bench, evals, keys, operations, product, profiles
from cli.product import bootstrap_admin_key

app = typer.Typer(
    help="Tether: support answers tethered to a knowledge base.", no_args_is_help=True
)
app.command("ingest")(product.ingest_cmd)
app.command()(product.ask)
app.command()(product.serve)
app.command()(profiles.init)
app.command()(profiles.check)
app.add_typer(evals.app, name="eval")
app.add_typer(keys.app, name="keys")
app.add_typer(keys.cases_app, name="cases")
app.add_typer(bench.app, name="bench")
app.add_typer(operations.experiment_app, name="experiment")
app.add_typer(operations.monitor_app, name="monitor")

__all__ = ["app", "bootstrap_admin_key"]
