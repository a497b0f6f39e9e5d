"""Analysis of an online experiment: is the split what was configured (sample-ratio mismatch),
and did the variants change escalation and resolution rates and the customers' thumbs-up rate,
with guardrails on latency and false escalations. An A/A experiment (variants with the same
settings) must come out clean.

Units are conversations (or customers); the escalation rate is per message, the resolution rate
per unit (a unit resolved without a person had no escalation), the thumbs-up rate per rated
reply (the replies customers rated up, of those they rated at all; customers who rate are a
self-selected few, so compare it between variants rather than read it as satisfaction). Messages
of one conversation are not independent, so per-message intervals are a little optimistic; the
per-unit rates are not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel
from scipy.stats import mannwhitneyu

from assistant.experiments.config import Experiment
from assistant.storage.experiments import Outcome
from evals.stats import ProportionTest, SRMResult, sample_ratio_mismatch, two_proportion_ztest


class VariantSummary(BaseModel):
    variant: str
    exposed: int
    units: int
    messages: int
    escalated_messages: int
    escalation_rate: float
    resolved_units: int
    resolution_rate: float
    false_escalations: int
    false_escalation_rate: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    # Replies the customers rated, and of those the ones rated thumbs up.
    rated: int = 0
    thumbs_up: int = 0
    thumbs_up_rate: float | None = None


class VariantTests(BaseModel):
    variant: str
    escalation: ProportionTest
    resolution: ProportionTest
    false_escalation: ProportionTest
    latency_p_value: float | None
    # None while either variant has no rated reply.
    thumbs_up: ProportionTest | None = None


class Analysis(BaseModel):
    experiment_id: str
    control: str
    aa: bool
    alpha: float
    variants: list[VariantSummary]
    srm: SRMResult
    tests: list[VariantTests]
    findings: list[str]

    @property
    def clean(self) -> bool:
        return not self.findings


def summarize(variant: str, exposed: int, outcomes: Sequence[Outcome]) -> VariantSummary:
    by_unit: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_unit[outcome.unit_id].append(outcome)
    escalated = sum(o.escalated for o in outcomes)
    resolved = sum(not any(o.escalated for o in unit) for unit in by_unit.values())
    false = sum(o.false_escalation for o in outcomes)
    latencies = [o.latency_ms for o in outcomes]
    rated = [o.rating for o in outcomes if o.rating is not None]
    up = sum(r == "up" for r in rated)
    return VariantSummary(
        variant=variant,
        exposed=exposed,
        units=len(by_unit),
        messages=len(outcomes),
        escalated_messages=escalated,
        escalation_rate=round(escalated / max(len(outcomes), 1), 4),
        resolved_units=resolved,
        resolution_rate=round(resolved / max(len(by_unit), 1), 4),
        false_escalations=false,
        false_escalation_rate=round(false / max(len(outcomes), 1), 4),
        latency_p50_ms=round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        latency_p95_ms=round(float(np.percentile(latencies, 95)), 1) if latencies else None,
        rated=len(rated),
        thumbs_up=up,
        thumbs_up_rate=round(up / len(rated), 4) if rated else None,
    )


def analyze(
    experiment: Experiment,
    exposures: dict[str, int],
    outcomes: Sequence[Outcome],
    *,
    control: str | None = None,
    alpha: float = 0.05,
    aa: bool | None = None,
) -> Analysis:
    names = sorted(experiment.variants)
    control = control or ("control" if "control" in names else names[0])
    if control not in names:
        raise ValueError(f"{control!r} is not a variant of {experiment.id}")
    settings = [experiment.variants[n].settings for n in names]
    is_aa = aa if aa is not None else all(s == settings[0] for s in settings)
    grouped: dict[str, list[Outcome]] = {n: [] for n in names}
    for outcome in outcomes:
        if outcome.variant in grouped:
            grouped[outcome.variant].append(outcome)
    summaries = {n: summarize(n, exposures.get(n, 0), grouped[n]) for n in names}
    srm = sample_ratio_mismatch({n: exposures.get(n, 0) for n in names}, experiment.shares)

    findings: list[str] = []
    if srm.mismatch:
        findings.append(
            f"sample-ratio mismatch (p = {srm.p_value:.2g}): the split is not the configured one; "
            "do not trust the other figures until it is explained"
        )
    tests = []
    base = summaries[control]
    for name in names:
        if name == control:
            continue
        s = summaries[name]
        latency_p = None
        if grouped[control] and grouped[name]:
            latency_p = float(
                mannwhitneyu(
                    [o.latency_ms for o in grouped[control]],
                    [o.latency_ms for o in grouped[name]],
                ).pvalue
            )
        test = VariantTests(
            variant=name,
            escalation=two_proportion_ztest(
                base.escalated_messages, base.messages, s.escalated_messages, s.messages
            ),
            resolution=two_proportion_ztest(
                base.resolved_units, base.units, s.resolved_units, s.units
            ),
            false_escalation=two_proportion_ztest(
                base.false_escalations, base.messages, s.false_escalations, s.messages
            ),
            latency_p_value=latency_p,
            thumbs_up=two_proportion_ztest(base.thumbs_up, base.rated, s.thumbs_up, s.rated)
            if base.rated and s.rated
            else None,
        )
        tests.append(test)
        for label, result in (
            ("escalation rate", test.escalation),
            ("resolution rate", test.resolution),
            ("false-escalation rate", test.false_escalation),
            ("thumbs-up rate", test.thumbs_up),
        ):
            if result is not None and result.p_value < alpha:
                findings.append(
                    f"{name} vs {control}: {label} {result.rate_a:.3f} -> {result.rate_b:.3f} "
                    f"(diff {result.diff:+.3f}, 95% CI [{result.ci_low:+.3f}, "
                    f"{result.ci_high:+.3f}], p = {result.p_value:.2g})"
                )
        if latency_p is not None and latency_p < alpha:
            findings.append(
                f"{name} vs {control}: latency p50 {base.latency_p50_ms} -> {s.latency_p50_ms} ms "
                f"(Mann-Whitney p = {latency_p:.2g})"
            )
    return Analysis(
        experiment_id=experiment.id,
        control=control,
        aa=is_aa,
        alpha=alpha,
        variants=list(summaries.values()),
        srm=srm,
        tests=tests,
        findings=findings,
    )


def report(analysis: Analysis) -> str:
    from evals.report import table

    rows = [
        (
            v.variant,
            v.exposed,
            v.units,
            v.messages,
            f"{v.escalation_rate:.3f}",
            f"{v.resolution_rate:.3f}",
            f"{v.false_escalation_rate:.3f}",
            v.latency_p50_ms,
            v.latency_p95_ms,
            "-" if v.thumbs_up_rate is None else f"{v.thumbs_up_rate:.3f} of {v.rated}",
        )
        for v in analysis.variants
    ]
    lines = [
        table(
            f"Experiment {analysis.experiment_id} (control: {analysis.control})",
            rows,
            (
                "variant",
                "exposed",
                "units",
                "messages",
                "escalation",
                "resolution",
                "false esc.",
                "p50 ms",
                "p95 ms",
                "thumbs up",
            ),
        ),
        "",
        f"Sample ratio: chi2 {analysis.srm.chi2:.2f}, p = {analysis.srm.p_value:.3g} "
        f"({'MISMATCH' if analysis.srm.mismatch else 'as configured'})",
    ]
    for t in analysis.tests:
        for label, r in (
            ("escalation", t.escalation),
            ("resolution", t.resolution),
            ("false escalation", t.false_escalation),
            ("thumbs up", t.thumbs_up),
        ):
            if r is None:
                continue
            lines.append(
                f"{t.variant} - {analysis.control}, {label}: {r.diff:+.4f} "
                f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}], z {r.z:+.2f}, p = {r.p_value:.3g}"
            )
        if t.latency_p_value is not None:
            lines.append(f"{t.variant} latency vs {analysis.control}: p = {t.latency_p_value:.3g}")
    if analysis.aa:
        lines.append(
            "A/A: clean" if analysis.clean else "A/A: NOT CLEAN; " + "; ".join(analysis.findings)
        )
    else:
        lines += ["", *(analysis.findings or ["No significant difference."])]
    return "\n".join(lines)
