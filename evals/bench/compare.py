"""Compare a run with a baseline: case changes first, then aggregate deltas with paired-bootstrap
intervals, McNemar's test on pass/fail, a per-tag breakdown, and the regression gate."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from core import yaml_loader
from core.errors import ConfigurationError
from evals.bench.evaluators import METRICS
from evals.bench.runner import Run
from evals.stats import Delta, McNemar, mcnemar, paired_bootstrap, regressions

GATE = Path(__file__).resolve().parent / "gate.yaml"


class Gate(BaseModel):
    alpha: float = 0.05
    bootstrap_resamples: int = 2000
    metrics: dict[str, float]
    report_only: list[str] = Field(default_factory=list)


def load_gate(path: Path = GATE) -> Gate:
    try:
        gate = Gate.model_validate(yaml_loader.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"gate {path}: {exc}") from exc
    unknown = (set(gate.metrics) | set(gate.report_only)) - set(METRICS)
    if unknown:
        raise ConfigurationError(f"gate {path}: unknown metrics {sorted(unknown)}")
    return gate


class CaseChange(BaseModel):
    id: str
    tags: list[str]
    change: str  # "pass -> fail" or "fail -> pass"
    flaky: bool
    before: str
    after: str


class TagRow(BaseModel):
    tag: str
    n: int
    baseline_pass: float
    candidate_pass: float


class Comparison(BaseModel):
    run: str
    baseline: str
    run_config: dict[str, object]
    baseline_config: dict[str, object]
    n: int
    only_in_run: list[str]
    only_in_baseline: list[str]
    changes: list[CaseChange]
    deltas: dict[str, Delta]
    mcnemar: McNemar
    tags: list[TagRow]
    flaky: list[str]
    gated: list[str]
    regressions: list[str]
    gate_failed: bool
    latency_ms: dict[str, list[float]]


def _describe(result_passed: bool, reasons: list[str], answer: str) -> str:
    if result_passed and answer:
        return f"pass: {answer[:120]}"
    if answer:
        return f"fail: answered {answer[:120]!r}"
    return f"{'pass' if result_passed else 'fail'}: escalated {', '.join(reasons) or ''}".strip()


def compare(run: Run, baseline: Run, *, gate: Gate | None = None, seed: int = 0) -> Comparison:
    gate = gate or load_gate()
    base_ids = {c.id for c in baseline.cases}
    run_ids = {c.id for c in run.cases}
    shared = [c.id for c in baseline.cases if c.id in run_ids]
    if not shared:
        raise ConfigurationError("the two runs have no case in common")
    before = {c.id: c for c in baseline.cases}
    after = {c.id: c for c in run.cases}
    flaky = sorted(set(run.flaky) | set(baseline.flaky))

    changes = []
    for case_id in shared:
        b, a = before[case_id], after[case_id]
        if b.passed != a.passed:
            changes.append(
                CaseChange(
                    id=case_id,
                    tags=a.tags,
                    change="pass -> fail" if b.passed else "fail -> pass",
                    flaky=case_id in flaky,
                    before=_describe(b.passed, b.outcome.reasons, b.outcome.answer),
                    after=_describe(a.passed, a.outcome.reasons, a.outcome.answer),
                )
            )
    changes.sort(key=lambda c: (c.change != "pass -> fail", c.id))

    deltas: dict[str, Delta] = {}
    for name in [*gate.metrics, *gate.report_only]:
        pairs = [
            (before[i].metrics.get(name), after[i].metrics.get(name))
            for i in shared
            if before[i].metrics.get(name) is not None and after[i].metrics.get(name) is not None
        ]
        if not pairs:
            continue
        deltas[name] = paired_bootstrap(
            [float(p[0]) for p in pairs if p[0] is not None],
            [float(p[1]) for p in pairs if p[1] is not None],
            n_resamples=gate.bootstrap_resamples,
            seed=seed,
        )

    # Flaky cases are listed, but their verdicts do not count for or against the change.
    steady = [i for i in shared if i not in flaky]
    test = mcnemar([before[i].passed for i in steady], [after[i].passed for i in steady])
    regressed = regressions(
        {k: v for k, v in deltas.items() if k in gate.metrics},
        tolerance=gate.metrics,
        higher_is_better={k: METRICS[k].higher_is_better for k in deltas},
        alpha=gate.alpha,
    )
    if test.p_value < gate.alpha and test.pass_to_fail > test.fail_to_pass:
        regressed = sorted({*regressed, "pass (McNemar)"})

    tags: dict[str, list[str]] = {}
    for case_id in shared:
        for tag in after[case_id].tags or ["(untagged)"]:
            tags.setdefault(tag, []).append(case_id)
    tag_rows = [
        TagRow(
            tag=tag,
            n=len(ids),
            baseline_pass=round(sum(before[i].passed for i in ids) / len(ids), 4),
            candidate_pass=round(sum(after[i].passed for i in ids) / len(ids), 4),
        )
        for tag, ids in sorted(tags.items())
    ]
    return Comparison(
        run=run.id,
        baseline=baseline.id,
        run_config=run.config.model_dump(),
        baseline_config=baseline.config.model_dump(),
        n=len(shared),
        only_in_run=sorted(run_ids - base_ids),
        only_in_baseline=sorted(base_ids - run_ids),
        changes=changes,
        deltas=deltas,
        mcnemar=test,
        tags=tag_rows,
        flaky=flaky,
        gated=sorted(m for m in gate.metrics if m in deltas),
        regressions=regressed,
        gate_failed=bool(regressed),
        latency_ms={
            "baseline": [before[i].outcome.latency_ms for i in shared],
            "run": [after[i].outcome.latency_ms for i in shared],
        },
    )
