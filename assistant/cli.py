"""The ``tether`` command line: ingest, ask, serve, eval."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from assistant.errors import TetherError
from assistant.settings import Settings, get_settings

app = typer.Typer(
    help="Tether: support answers tethered to a knowledge base.", no_args_is_help=True
)
eval_app = typer.Typer(help="Measure retrieval, classification, latency.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


def _fail(exc: TetherError) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2) from exc


def _print_figures(figures: dict[str, float]) -> None:
    print()
    print(json.dumps(figures))


def ingest_knowledge_base(settings: Settings, path: Path | None = None) -> str:
    from assistant.embeddings import MiniLMEmbedder
    from knowledge_base.articles import load_articles
    from knowledge_base.ingest import ingest
    from knowledge_base.store import ChromaStore

    articles = load_articles(path or settings.kb_path)
    report = ingest(articles, store=ChromaStore.from_settings(settings), embedder=MiniLMEmbedder())
    return (
        f"{len(articles)} articles: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged "
        f"({report.chunks_written} chunks written)"
    )


@app.command("ingest")
def ingest_cmd(
    path: Annotated[Path | None, typer.Argument(help="Markdown/JSONL file or folder")] = None,
) -> None:
    """Ingest a knowledge base (default: the bundled sample) into the configured Chroma."""
    try:
        typer.echo(ingest_knowledge_base(get_settings(), path))
    except TetherError as exc:
        _fail(exc)


@app.command()
def ask(message: Annotated[list[str], typer.Argument(help="Customer turns, oldest first")]) -> None:
    """Answer one message (or a conversation of customer turns) on the configured stack."""
    from assistant.conversation import Turn
    from assistant.services import build_services

    try:
        services = build_services(get_settings())
        reply = services.assistant.respond([Turn(role="customer", text=m) for m in message])
    except TetherError as exc:
        _fail(exc)
        return
    typer.echo(reply.text)
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


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    ingest: Annotated[bool, typer.Option(help="Ingest the knowledge base first")] = True,
) -> None:
    """Ingest the knowledge base (idempotent) and serve the chat API (docs at /docs)."""
    import uvicorn

    from assistant.api.main import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    try:
        if ingest:
            typer.echo(ingest_knowledge_base(settings))
        uvicorn.run(create_app(settings=settings), host=host, port=port)
    except TetherError as exc:
        _fail(exc)


@eval_app.command("retrieval")
def eval_retrieval(
    folder: Path,
    split: Annotated[
        str, typer.Option(help="all, dev or test (hash split of question ids)")
    ] = "all",
) -> None:
    """Recall@1, recall@5 and MRR of hybrid search on FOLDER (articles.jsonl, questions.jsonl)."""
    from evals import retrieval

    try:
        _print_figures(retrieval.run(folder, split=split))
    except TetherError as exc:
        _fail(exc)


@eval_app.command("classify")
def eval_classify(folder: Path) -> None:
    """Accuracy of the issue classifier trained on FOLDER/train.csv, tested on FOLDER/test.csv."""
    from evals import classification

    try:
        _print_figures(classification.run(folder))
    except TetherError as exc:
        _fail(exc)


@eval_app.command("latency")
def eval_latency(
    questions: Annotated[Path | None, typer.Option(help="questions.jsonl")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions")] = None,
) -> None:
    """Per-stage latency (p50, p95), tier-2 share and escalation rate on the real model."""
    from evals import latency

    try:
        _print_figures(latency.run(questions, limit=limit))
    except TetherError as exc:
        _fail(exc)
