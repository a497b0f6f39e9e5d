"""The ``tether`` command line: ingest, ask, serve, eval."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from assistant.errors import TetherError
from assistant.settings import Settings, get_settings

if TYPE_CHECKING:
    from assistant.llm.base import ChatModel
    from assistant.storage import Database

app = typer.Typer(
    help="Tether: support answers tethered to a knowledge base.", no_args_is_help=True
)
eval_app = typer.Typer(help="Measure retrieval, classification, latency.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
keys_app = typer.Typer(help="API keys: create, list, revoke (stored hashed).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
cases_app = typer.Typer(help="Benchmark cases written from resolved escalations.")
app.add_typer(cases_app, name="cases")
bench_app = typer.Typer(help="Benchmark prompt and model changes: run, compare.")
app.add_typer(bench_app, name="bench")
experiment_app = typer.Typer(help="Online experiments: list, analyze.", no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")
monitor_app = typer.Typer(help="Quality monitoring on live traffic.", no_args_is_help=True)
app.add_typer(monitor_app, name="monitor")


def _fail(exc: TetherError) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2) from exc


def _print_figures(figures: Mapping[str, object]) -> None:
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
    from assistant.monitoring.logs import configure

    configure()
    settings = get_settings()
    try:
        if ingest:
            typer.echo(ingest_knowledge_base(settings))
        first_key = bootstrap_admin_key(_database(settings))
        if first_key is not None:
            typer.secho(
                f"No API keys yet: made an admin key (shown once, stored hashed):\n  {first_key}\n"
                f"Console: http://{host}:{port}/console  API docs: http://{host}:{port}/docs",
                fg=typer.colors.GREEN,
            )
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


def _cached_model(settings: Settings) -> ChatModel:
    """The configured model behind the response cache, loaded only when a call misses it."""
    from assistant.llm.cache import CachingChatModel, LazyModel
    from assistant.services import build_model, model_name

    return CachingChatModel(
        LazyModel(model_name(settings), lambda: build_model(settings)), settings.llm_cache_path
    )


@eval_app.command("groundedness")
def eval_groundedness(
    file: Annotated[Path, typer.Argument(help="A BEGIN-format TSV (knowledge, message, ...)")],
    mode: Annotated[
        str, typer.Option(help="cosine (the baseline), tier1, judge, or cascade (the product)")
    ] = "cascade",
    limit: Annotated[int | None, typer.Option(help="Only the first N rows")] = None,
) -> None:
    """Catching ungrounded responses: precision, recall, F1, balanced accuracy, tier-2 share."""
    from assistant.embeddings import MiniLMEmbedder
    from evals import groundedness
    from evals.report import figures_table
    from guardrails.calibration import load_calibration

    if mode not in ("cosine", "tier1", "judge", "cascade"):
        typer.secho("error: --mode must be cosine, tier1, judge or cascade", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    try:
        figures = groundedness.evaluate(
            file,
            mode=cast(groundedness.Mode, mode),
            embedder=MiniLMEmbedder(),
            model=_cached_model(settings) if mode in ("judge", "cascade") else None,
            calibration=load_calibration(settings.guardrails_calibration),
            grounding_prompt=settings.grounding_prompt,
            limit=limit,
        )
    except (TetherError, OSError) as exc:
        _fail(TetherError(str(exc)))
        return
    print(figures_table(f"Groundedness on {file.name} ({mode})", figures))
    _print_figures({"file": file.name, "mode": mode, **figures})


@eval_app.command("calibrate")
def eval_calibrate(
    file: Annotated[Path, typer.Argument(help="A BEGIN-format TSV to tune the thresholds on")],
    out: Annotated[
        Path | None, typer.Option(help="Where to write them (default: the configured file)")
    ] = None,
) -> None:
    """Tune the guardrail thresholds on one labelled file and write them with where they came
    from; evaluate on other files (`tether eval groundedness`)."""
    from assistant.embeddings import MiniLMEmbedder
    from evals import groundedness
    from evals.report import figures_table
    from guardrails.calibration import BUNDLED, save_calibration

    settings = get_settings()
    target = out or settings.guardrails_calibration or BUNDLED
    try:
        calibration = groundedness.calibrate(
            file,
            embedder=MiniLMEmbedder(),
            model=_cached_model(settings),
            grounding_prompt=settings.grounding_prompt,
        )
        save_calibration(calibration, target)
    except (TetherError, OSError) as exc:
        _fail(TetherError(str(exc)))
        return
    thresholds = calibration.model_dump(exclude={"dev_figures", "calibrated_on", "date", "command"})
    print(figures_table(f"Thresholds from {file.name}, written to {target}", thresholds))
    _print_figures({"file": file.name, **thresholds, **calibration.dev_figures})


@eval_app.command("injection")
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
        _print_figures(figures)
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


def _database(settings: Settings) -> Database:
    from assistant.storage import Database

    return Database.connect(settings.resolved_database_url)


def bootstrap_admin_key(database: Database) -> str | None:
    """On a database with no active key, make one admin key so someone can log in at all."""
    from assistant.storage.keys import Role

    if database.keys.all():
        return None
    return database.keys.create("admin", Role.ADMIN).secret


@keys_app.command("create")
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
        issued = _database(get_settings()).keys.create(name, Role(role))
    except (TetherError, ValueError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{issued.key.role} key for {issued.key.name} (id {issued.key.id}):")
    typer.echo(issued.secret)


@keys_app.command("list")
def keys_list(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys")] = False,
) -> None:
    """Keys by id, name, role and prefix; never the secrets."""
    try:
        keys = _database(get_settings()).keys.all(include_revoked=all_keys)
    except TetherError as exc:
        _fail(exc)
        return
    for key in keys:
        state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
        typer.echo(f"{key.id}  {key.name:<20} {key.role:<9} {key.prefix}...  {state}")


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="A key id, or a name: all its keys")],
) -> None:
    try:
        revoked = _database(get_settings()).keys.revoke(key)
    except TetherError as exc:
        _fail(exc)
        return
    for item in revoked:
        typer.echo(f"revoked {item.id} ({item.name}, {item.role})")


@cases_app.command("export")
def cases_export(path: Annotated[Path, typer.Argument(help="A .jsonl file to write")]) -> None:
    """Write the regression cases agents recorded to PATH, in the benchmark case format."""
    from evals.cases import BenchmarkCase, write_cases

    try:
        raw = _database(get_settings()).escalations.regression_cases()
    except TetherError as exc:
        _fail(exc)
        return
    count = write_cases([BenchmarkCase.model_validate(c) for c in raw], path)
    typer.echo(f"{count} regression cases written to {path}")


@bench_app.command("run")
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
) -> None:
    """Run DATASET through the whole pipeline and store the run (JSON) for `bench compare`."""
    from evals.bench.runner import save_run
    from evals.bench.suite import parse_prompts, run_benchmark
    from evals.cases import BenchmarkCase
    from evals.report import figures_table

    settings = get_settings()
    try:
        extra: list[BenchmarkCase] = []
        own_kb = dataset.resolve() == settings.kb_path.resolve().parent
        if regressions if regressions is not None else own_kb:
            extra = [
                BenchmarkCase.model_validate(c)
                for c in _database(settings).escalations.regression_cases()
            ]
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
        )
    except TetherError as exc:
        _fail(exc)
        return
    path = save_run(run, out or Path("runs") / f"{run.id}.json")
    print(figures_table(f"Run {run.id} ({len(run.cases)} cases)", run.aggregates))
    print(f"\nmodel calls: {run.model_calls}; flaky: {run.flaky or 'none'}; saved to {path}")
    _print_figures({"run": str(path), **{k: v for k, v in run.aggregates.items() if v is not None}})


@bench_app.command("compare")
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
        _fail(exc)
        return
    folder = out_dir or run.parent / f"compare-{candidate.id}-vs-{base.id}"
    paths = write_reports(comparison, folder)
    print(markdown(comparison))
    print(f"reports: {', '.join(str(p) for p in paths.values())}")
    if comparison.gate_failed:
        typer.secho(f"REGRESSION: {', '.join(comparison.regressions)}", fg="red", err=True)
        raise typer.Exit(1)


@experiment_app.command("list")
def experiment_list() -> None:
    """The configured experiments (TETHER_EXPERIMENTS_PATH) and their exposures so far."""
    from assistant.experiments.config import load_experiments

    settings = get_settings()
    try:
        experiments = load_experiments(settings.experiments_path)
        database = _database(settings)
        for e in experiments.experiments:
            shares = ", ".join(f"{n} {s:.0%}" for n, s in e.shares.items())
            state = "active" if e.active else "stopped"
            exposed = database.experiments.exposures(e.id)
            typer.echo(f"{e.id} ({state}, by {e.unit}): {shares}; exposed {exposed or 'none yet'}")
    except TetherError as exc:
        _fail(exc)


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
        database = _database(settings)
        analysis = analyze(
            experiment,
            database.experiments.exposures(experiment_id),
            database.experiments.outcomes(experiment_id),
            control=control,
            alpha=alpha,
            aa=aa,
        )
    except TetherError as exc:
        _fail(exc)
        return
    print(report(analysis))
    _print_figures(
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
    """Score a random share of finished conversations with the judge; check for drift."""
    from datetime import timedelta

    from assistant.llm.cache import LazyModel
    from assistant.monitoring.logs import configure
    from assistant.monitoring.quality import check_drift, sample_and_judge
    from assistant.prompts import resolve_prompt
    from assistant.services import build_model, model_name

    configure()
    settings = get_settings()
    try:
        database = _database(settings)
        report = sample_and_judge(
            database,
            LazyModel(model_name(settings), lambda: build_model(settings)),
            resolve_prompt(settings.monitor_prompt, settings.prompts_dir),
            share=settings.monitor_share if share is None else share,
            finished_minutes=settings.monitor_finished_minutes,
        )
        drift = check_drift(
            database,
            recent=timedelta(hours=settings.drift_recent_hours),
            reference=timedelta(days=settings.drift_reference_days),
        )
    except TetherError as exc:
        _fail(exc)
        return
    for result in drift:
        state = "DRIFT" if result.drifted else "stable"
        typer.echo(
            f"{result.feature}: {state} (p {result.p_value:.3g}, JSD {result.jsd:.3f}, "
            f"{result.n_reference} reference vs {result.n_recent} recent)"
        )
    _print_figures(
        {
            **report.model_dump(exclude={"drift"}),
            "drifted": [r.feature for r in drift if r.drifted],
        }
    )
