"""Printing figures: a readable table, then (by the CLI) one JSON object as the last line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def table(title: str, rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    cells = [[str(h) for h in header]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, ""]
    for n, row in enumerate(cells):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def figures_table(title: str, figures: Mapping[str, object]) -> str:
    return table(title, [(k, v) for k, v in figures.items()], ("metric", "value"))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
