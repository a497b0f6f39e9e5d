"""A comparison as Markdown (for a pull request), JSON (for machines) and one self-contained HTML
page with plots: per-metric deltas with their intervals, pass rate per tag, latency."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from evals.bench.compare import Comparison


def _f(value: float, digits: int = 3) -> str:
    return f"{value:+.{digits}f}" if value else f"{0:.{digits}f}"


def markdown(c: Comparison) -> str:
    verdict = (
        f"**REGRESSION**: {', '.join(c.regressions)}" if c.gate_failed else "**no regression**"
    )
    lines = [
        f"# Benchmark: `{c.run}` against baseline `{c.baseline}`",
        "",
        f"{c.n} shared cases. Gate: {verdict}.",
        "",
        "| | baseline | run |",
        "|---|---|---|",
        f"| prompts | {c.baseline_config.get('prompts')} | {c.run_config.get('prompts')} |",
        f"| model | {c.baseline_config.get('model')} | {c.run_config.get('model')} |",
        "",
        "## Case changes",
        "",
    ]
    if c.changes:
        lines += ["| case | tags | change | before | after |", "|---|---|---|---|---|"]
        for ch in c.changes:
            flag = " (flaky)" if ch.flaky else ""
            lines.append(
                f"| {ch.id} | {', '.join(ch.tags)} | {ch.change}{flag} | "
                f"{_cell(ch.before)} | {_cell(ch.after)} |"
            )
    else:
        lines.append("No case changed its verdict.")
    m = c.mcnemar
    lines += [
        "",
        f"McNemar ({m.method}): {m.pass_to_fail} pass->fail, {m.fail_to_pass} fail->pass, "
        f"p = {m.p_value:.4g}.",
        "",
        "## Metrics (paired bootstrap, 95% interval of the difference)",
        "",
        "| metric | n | baseline | run | delta | 95% CI | p | gated |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, d in c.deltas.items():
        gated = "REGRESSED" if name in c.regressions else ("yes" if name in c.gated else "no")
        lines.append(
            f"| {name} | {d.n} | {d.baseline_mean:.3f} | {d.candidate_mean:.3f} | "
            f"{_f(d.delta)} | [{d.ci_low:+.3f}, {d.ci_high:+.3f}] | {d.p_value:.3g} | {gated} |"
        )
    lines += ["", "## Pass rate by tag", "", "| tag | n | baseline | run |", "|---|---|---|---|"]
    for t in c.tags:
        lines.append(f"| {t.tag} | {t.n} | {t.baseline_pass:.2f} | {t.candidate_pass:.2f} |")
    if c.flaky:
        lines += ["", f"Flaky (verdict changed across repeats): {', '.join(c.flaky)}"]
    if c.only_in_run or c.only_in_baseline:
        lines += [
            "",
            f"Only in the run: {', '.join(c.only_in_run) or '-'}; "
            f"only in the baseline: {', '.join(c.only_in_baseline) or '-'}",
        ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _figure(figsize: tuple[float, float]) -> tuple[Figure, Any]:
    fig = Figure(figsize=figsize)
    return fig, fig.add_subplot()


def plots(c: Comparison) -> dict[str, str]:
    shown = {k: v for k, v in c.deltas.items() if k not in ("latency_ms", "tokens")}
    names = list(shown)
    fig, ax = _figure(figsize=(7, 0.38 * len(names) + 1.2))
    y = np.arange(len(names))
    deltas = [shown[n].delta for n in names]
    low = [shown[n].delta - shown[n].ci_low for n in names]
    high = [shown[n].ci_high - shown[n].delta for n in names]
    colors = ["#c62828" if n in c.regressions else "#2f6fde" for n in names]
    ax.errorbar(deltas, y, xerr=[low, high], fmt="none", ecolor="#999", capsize=3)
    ax.scatter(deltas, y, color=colors, zorder=3)
    ax.axvline(0, color="#333", linewidth=0.8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("run - baseline (95% interval)")
    ax.set_title("Metric deltas")
    metric_png = _png(fig)

    fig, ax = _figure(figsize=(7, 3.2))
    x = np.arange(len(c.tags))
    ax.bar(x - 0.2, [t.baseline_pass for t in c.tags], 0.4, label="baseline", color="#9bb7e8")
    ax.bar(x + 0.2, [t.candidate_pass for t in c.tags], 0.4, label="run", color="#2f6fde")
    ax.set_xticks(x, [f"{t.tag}\n(n={t.n})" for t in c.tags])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("pass rate")
    ax.legend()
    ax.set_title("Pass rate by tag")
    tag_png = _png(fig)

    fig, ax = _figure(figsize=(7, 3))
    data = [np.array(c.latency_ms["baseline"]) / 1000, np.array(c.latency_ms["run"]) / 1000]
    ax.boxplot(data, orientation="horizontal", tick_labels=["baseline", "run"])
    ax.set_xlabel("seconds per case (cached model calls take ~0 s)")
    ax.set_title("Latency")
    latency_png = _png(fig)
    return {"metrics": metric_png, "tags": tag_png, "latency": latency_png}


def html_page(c: Comparison) -> str:
    images = plots(c)
    body = html.escape(markdown(c))
    status = "regression" if c.gate_failed else "ok"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Benchmark {html.escape(c.run)}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 24px auto; }}
.badge {{ padding: 4px 10px; border-radius: 12px; color: #fff; font-weight: 600; }}
.ok {{ background: #2e7d32; }} .regression {{ background: #c62828; }}
.plots {{ display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }}
.plots img {{ width: 100%; border: 1px solid #e3e6eb; border-radius: 6px; }}
pre {{ white-space: pre-wrap; background: #f6f7f9; padding: 12px; border-radius: 6px; }}
</style></head><body>
<h1>Benchmark <code>{html.escape(c.run)}</code> vs <code>{html.escape(c.baseline)}</code>
<span class="badge {status}">{status}</span></h1>
<div class="plots">
<img alt="metric deltas" src="data:image/png;base64,{images["metrics"]}">
<img alt="pass rate by tag" src="data:image/png;base64,{images["tags"]}">
<img alt="latency" src="data:image/png;base64,{images["latency"]}">
</div>
<h2>Report</h2>
<pre>{body}</pre>
</body></html>
"""


def write_reports(c: Comparison, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": folder / "report.md",
        "json": folder / "report.json",
        "html": folder / "report.html",
    }
    paths["markdown"].write_text(markdown(c), encoding="utf-8")
    paths["json"].write_text(c.model_dump_json(indent=1), encoding="utf-8")
    paths["html"].write_text(html_page(c), encoding="utf-8")
    return paths
