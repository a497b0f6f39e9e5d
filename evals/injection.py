"""Prompt-injection detection: attacks caught (Tensor Trust) and safe prompts blocked (XSTest).

    python -m evals.injection [--split dev|test|all] [--data DIR] [--threshold T]

``DIR`` (default ``../shared/data``) holds ``tensortrust/hijacking_robustness_dataset.jsonl``
(the customer-controlled text is ``attack``) and ``xstest/xstest_prompts.csv`` (rows with
``label == "safe"``). Both sets are split by a hash of their ids (``split_of``): about 30% dev,
for tuning the detector's rules and threshold, and 70% test, reported and never tuned on.
The figures are printed as a table, then as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.errors import ConfigurationError
from evals.report import table
from guardrails.injection import (
    DEFAULT_THRESHOLD,
    SIGNALS,
    explain,
    verdict_from,
)

Split = Literal["dev", "test", "all"]
SPLITS: tuple[Split, ...] = ("dev", "test", "all")
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ATTACKS_FILE = Path("tensortrust") / "hijacking_robustness_dataset.jsonl"
SAFE_FILE = Path("xstest") / "xstest_prompts.csv"
_DEV_BUCKETS = 3  # of 10


def split_of(item_id: object) -> Literal["dev", "test"]:
    """``dev`` for about 30% of ids, ``test`` for the rest; the same id always lands the same."""
    bucket = int(hashlib.sha256(str(item_id).encode()).hexdigest(), 16) % 10
    return "dev" if bucket < _DEV_BUCKETS else "test"


def in_split(item_id: object, split: Split) -> bool:
    return split == "all" or split_of(item_id) == split


@dataclass(frozen=True)
class Example:
    id: str
    text: str


def load_attacks(data_dir: Path, split: Split) -> list[Example]:
    path = data_dir / ATTACKS_FILE
    if not path.is_file():
        raise ConfigurationError(f"{path} not found (expected Tensor Trust hijacking JSONL)")
    examples: list[Example] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if "sample_id" not in row or "attack" not in row:
                raise ConfigurationError(f"{path}:{number} needs the fields sample_id and attack")
            if in_split(row["sample_id"], split):
                examples.append(Example(str(row["sample_id"]), str(row["attack"])))
    return examples


def load_safe_prompts(data_dir: Path, split: Split) -> list[Example]:
    path = data_dir / SAFE_FILE
    if not path.is_file():
        raise ConfigurationError(f"{path} not found (expected the XSTest prompts CSV)")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"id", "prompt", "label"} <= rows[0].keys():
        raise ConfigurationError(f"{path} needs the columns id,prompt,label")
    return [
        Example(r["id"], r["prompt"])
        for r in rows
        if r["label"] == "safe" and in_split(r["id"], split)
    ]


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _families(examples: Sequence[Example]) -> list[dict[str, float]]:
    return [explain(e.text) for e in examples]


def run(
    data_dir: Path,
    *,
    split: Split = "test",
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, float]:
    """Detection rate on the attacks and false-positive rate on the safe prompts of ``split``.

    Also, per signal, how many attacks and how many safe prompts it fired on.
    """
    if split not in SPLITS:
        raise ConfigurationError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    attacks = load_attacks(data_dir, split)
    safe = load_safe_prompts(data_dir, split)
    start = time.perf_counter()
    attack_families = _families(attacks)
    safe_families = _families(safe)
    elapsed = time.perf_counter() - start
    attack_verdicts = [verdict_from(f, threshold=threshold) for f in attack_families]
    safe_verdicts = [verdict_from(f, threshold=threshold) for f in safe_families]

    detected = sum(v.flagged for v in attack_verdicts)
    blocked = sum(v.flagged for v in safe_verdicts)
    figures: dict[str, float] = {
        "attacks_n": len(attacks),
        "attacks_detected": detected,
        "detection_rate": _rate(detected, len(attacks)),
        "safe_n": len(safe),
        "safe_blocked": blocked,
        "false_positive_rate": _rate(blocked, len(safe)),
        "threshold": threshold,
        "ms_per_message": round(elapsed * 1000 / max(1, len(attacks) + len(safe)), 3),
    }
    on_attacks = Counter(name for f in attack_families for name in f)
    on_safe = Counter(name for f in safe_families for name in f)
    for name in SIGNALS:
        figures[f"signal_{name}_attacks"] = on_attacks[name]
        figures[f"signal_{name}_safe"] = on_safe[name]

    print(
        table(
            f"Prompt-injection detection, {split} split (rules only, threshold {threshold:g})",
            [
                ("attacks (Tensor Trust)", len(attacks), detected, _rate(detected, len(attacks))),
                ("safe prompts (XSTest)", len(safe), blocked, _rate(blocked, len(safe))),
            ],
            ("set", "n", "flagged", "rate"),
        )
    )
    print()
    print(
        table(
            "Signals: messages each one fired on",
            [(name, on_attacks[name], on_safe[name]) for name in SIGNALS],
            ("signal", "attacks", "safe prompts"),
        )
    )
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--split", choices=SPLITS, default="test")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args(argv)
    figures = run(args.data, split=args.split, threshold=args.threshold)
    print()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
