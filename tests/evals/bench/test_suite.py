"""The suite checks itself: an unchanged rerun reproduces the numbers from the cache and passes
the gate; a planted regression (a wrong deadline, or answers without citations) trips it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.settings import Settings
from core.embeddings import HashingEmbedder
from core.llm.fake import FakeChatModel
from evals.bench.compare import compare
from evals.bench.runner import Run, load_run, save_run
from evals.bench.suite import parse_prompts, run_benchmark
from tests.evals.bench.conftest import CASES, responder


def bench(dataset: Path, tmp_path: Path, model: FakeChatModel, **options: object) -> Run:
    settings = Settings(data_dir=tmp_path / "state")
    return run_benchmark(
        dataset,
        settings=settings,
        prompts=parse_prompts(str(options.pop("prompts", ""))),
        model=model,
        embedder=HashingEmbedder(),
        progress=False,
        **options,  # type: ignore[arg-type]
    )


def test_a_run_measures_every_case(dataset: Path, tmp_path: Path) -> None:
    run = bench(dataset, tmp_path, FakeChatModel(responder=responder()))
    assert [c.id for c in run.cases] == [c["id"] for c in CASES]
    c2 = run.case("c2")
    assert c2.passed
    assert c2.outcome.answered
    assert c2.outcome.citations == ["pay-002"]
    assert c2.metrics["token_f1"] == 1.0
    assert c2.metrics["answer_similarity"] == pytest.approx(1.0, abs=1e-3)
    assert c2.metrics["judge_accuracy"] == 1.0
    assert c2.metrics["issue_correct"] == 1.0
    assert run.case("c8").passed  # must escalate, did
    assert run.case("c8").metrics["correct_escalation"] == 1.0
    assert run.aggregates["pass"] == pytest.approx(1.0)
    assert run.config.prompts["answer"] == "answer@2"
    assert run.model_calls["model_calls"] > 0


def test_an_unchanged_rerun_calls_no_model_and_passes_the_gate(
    dataset: Path, tmp_path: Path
) -> None:
    first = bench(dataset, tmp_path, FakeChatModel(responder=responder()))
    silent = FakeChatModel()  # would fail any call: there is nothing queued and no responder
    again = bench(dataset, tmp_path, silent)
    assert silent.calls == []
    assert again.model_calls["model_calls"] == 0
    assert [c.metrics for c in again.cases] == [c.metrics for c in first.cases] or all(
        {k: v for k, v in a.metrics.items() if k != "latency_ms"}
        == {k: v for k, v in b.metrics.items() if k != "latency_ms"}
        for a, b in zip(again.cases, first.cases, strict=True)
    )
    result = compare(again, first)
    assert not result.gate_failed
    assert result.changes == []
    assert result.deltas["pass"].delta == 0.0


def test_a_planted_wrong_deadline_trips_the_gate(dataset: Path, tmp_path: Path) -> None:
    baseline = bench(dataset, tmp_path, FakeChatModel(responder=responder()))
    planted = bench(
        dataset, tmp_path / "other", FakeChatModel(responder=responder(plant_deadline=True))
    )
    result = compare(planted, baseline)
    changed = {c.id for c in result.changes if c.change == "pass -> fail"}
    # every case whose answer states the 7-day deadline
    assert changed == {"c1", "c5", "c7", "c9", "c10", "c11", "c12"}
    assert result.gate_failed
    assert "pass" in result.regressions or "pass (McNemar)" in result.regressions


def test_answers_the_model_leaves_uncited_cite_what_the_check_found_them_in(
    dataset: Path, tmp_path: Path
) -> None:
    # a model that stops citing no longer leaves answers a person cannot check: each cites the
    # articles tier 1 held its sentences against, and the gate holds
    baseline = bench(dataset, tmp_path, FakeChatModel(responder=responder()))
    uncited = bench(dataset, tmp_path / "other", FakeChatModel(responder=responder(cite=False)))
    assert all(c.outcome.citations for c in uncited.cases if c.outcome.answered)
    assert uncited.aggregates["cited_gold"] == baseline.aggregates["cited_gold"]
    assert not compare(uncited, baseline).gate_failed


def test_repeats_flag_cases_whose_verdict_changes(dataset: Path, tmp_path: Path) -> None:
    # each case runs twice in a row (the second repeat has a cache key space of its own), and
    # the flaky model gets every second deadline answer wrong: every deadline case is flaky
    run = bench(dataset, tmp_path, FakeChatModel(responder=responder(every_other=True)), repeat=2)
    assert all(len(c.repeats) == 2 for c in run.cases)
    assert run.flaky == sorted(["c1", "c5", "c7", "c9", "c10", "c11", "c12"])
    assert all(run.case(i).repeats == [True, False] for i in run.flaky)


def test_the_cli_runs_compares_writes_reports_and_exits_1_on_regression(
    dataset: Path, tmp_path: Path
) -> None:
    from cli import app

    baseline = save_run(
        bench(dataset, tmp_path, FakeChatModel(responder=responder())), tmp_path / "base.json"
    )
    planted = save_run(
        bench(dataset, tmp_path / "p", FakeChatModel(responder=responder(plant_deadline=True))),
        tmp_path / "planted.json",
    )
    runner = CliRunner()
    same = runner.invoke(
        app, ["bench", "compare", str(baseline), str(baseline), "--out-dir", str(tmp_path / "r1")]
    )
    assert same.exit_code == 0, same.output
    assert "no regression" in same.output
    worse = runner.invoke(
        app, ["bench", "compare", str(planted), str(baseline), "--out-dir", str(tmp_path / "r2")]
    )
    assert worse.exit_code == 1
    assert "pass -> fail" in worse.output
    report = json.loads((tmp_path / "r2" / "report.json").read_text())
    assert report["gate_failed"] is True
    page = (tmp_path / "r2" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    assert load_run(planted).id != load_run(baseline).id


def test_cases_run_at_once_give_the_results_of_a_sequential_run_in_the_same_order(
    dataset: Path, tmp_path: Path
) -> None:
    def results(run: Run) -> list[dict[str, object]]:
        timing = {"outcome": {"latency_ms"}, "metrics": {"latency_ms"}}
        return [c.model_dump(exclude=timing) for c in run.cases]  # type: ignore[arg-type]

    one = bench(dataset, tmp_path / "one", FakeChatModel(responder=responder()))
    four = bench(dataset, tmp_path / "four", FakeChatModel(responder=responder()), concurrency=4)
    assert [c.id for c in four.cases] == [c["id"] for c in CASES]
    assert results(four) == results(one)
    assert four.aggregates["pass"] == one.aggregates["pass"]
