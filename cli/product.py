"""The product's own commands: ingest the knowledge base, ask, serve."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from assistant.settings import Settings, get_settings
from cli.common import database, fail
from core.errors import TetherError

if TYPE_CHECKING:
    from assistant.storage import Database

# Seconds an idle connection stays open: longer than a client told to retry waits (uvicorn's
# 5 s default closed connections under clients sleeping on Retry-After: a reset on reuse).
KEEP_ALIVE_S = 75


def ingest_knowledge_base(settings: Settings, path: Path | None = None) -> str:
    """Ingest under the ingest job's lock: when another process (a replica starting at the same
    time, say) is ingesting, say so and leave it to them."""
    from assistant.monitoring.kb_gaps import ingest_under_lock
    from assistant.storage.locks import AlreadyRunning
    from assistant.wiring import build_embedder, build_store

    report = ingest_under_lock(
        database(settings),
        build_store(settings),
        build_embedder(),
        path or settings.kb_path,
        progress=True,
    )
    if isinstance(report, AlreadyRunning):
        return f"not ingested: {report.message}"
    articles = len(report.added) + len(report.updated) + len(report.unchanged)
    return (
        f"{articles} articles: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged "
        f"({report.chunks_written} chunks written)"
    )


def ingest_cmd(
    path: Annotated[Path | None, typer.Argument(help="Markdown/JSONL file or folder")] = None,
) -> None:
    """Ingest a knowledge base (default: the bundled sample) into the configured Chroma."""
    try:
        typer.echo(ingest_knowledge_base(get_settings(), path))
    except TetherError as exc:
        fail(exc)


def ask(message: Annotated[list[str], typer.Argument(help="Customer turns, oldest first")]) -> None:
    """Answer one message (or a conversation of customer turns) on the configured stack,
    printing each answer sentence as soon as it has passed the check."""
    from assistant.pipeline.streaming import Progress, Sentence
    from assistant.wiring import build_services
    from core.conversation import Turn

    started = time.perf_counter()

    def show(event: Progress | Sentence) -> None:
        if isinstance(event, Sentence):
            cited = " ".join(f"[{c.article_id}]" for c in event.citations)
            typer.echo(f"{event.text} {cited}".strip())
        else:
            typer.secho(f"  … {event.stage} ({time.perf_counter() - started:.1f} s)", dim=True)

    try:
        services = build_services(get_settings())
        assistant = services.assistant
        screened = assistant.screen([Turn(role="customer", text=m) for m in message], show)
        reply = assistant.reply_to(screened, show)
    except TetherError as exc:
        fail(exc)
    if not reply.answered:
        typer.echo(reply.text.split("\n\n")[-1])
    for citation in reply.citations:
        typer.echo(f"  [{citation.article_id}] {citation.title}")
    verdict = reply.verdict
    typer.secho(
        f"\nissue: {reply.classification.issue_type} ({reply.classification.confidence:.2f}) | "
        f"verdict: {verdict.outcome} tier {verdict.tier} {[str(r) for r in verdict.reasons]} | "
        f"latency: {reply.latency_ms}",
        fg=typer.colors.BLUE,
    )
    for finding in verdict.flagged:
        typer.echo(
            f"  flagged: {finding.sentence!r} score {finding.score:.2f} {finding.missing_facts}"
        )


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    ingest: Annotated[bool, typer.Option(help="Ingest the knowledge base first")] = True,
) -> None:
    """Ingest the knowledge base (idempotent) and serve the chat API (docs at /docs)."""
    import uvicorn

    from assistant.app import create_app
    from assistant.monitoring.logs import configure

    configure()
    settings = get_settings()
    try:
        if ingest:
            typer.echo(ingest_knowledge_base(settings))
        first_key = bootstrap_admin_key(database(settings))
        if first_key is not None:
            typer.secho(
                f"No API keys yet: made an admin key (shown once, stored hashed):\n  {first_key}\n"
                f"Console: http://{host}:{port}/console  API docs: http://{host}:{port}/docs",
                fg=typer.colors.GREEN,
            )
        uvicorn.run(
            create_app(settings=settings), host=host, port=port, timeout_keep_alive=KEEP_ALIVE_S
        )
    except TetherError as exc:
        fail(exc)


def bootstrap_admin_key(database: Database) -> str | None:
    """On a database with no active key, make one admin key so someone can log in at all."""
    from assistant.storage.keys import Role

    if database.keys.all():
        return None
    return database.keys.create("admin", Role.ADMIN).secret
