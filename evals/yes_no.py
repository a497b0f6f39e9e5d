"""The yes/no condition check (guardrails/conditions.py) on its hand-written dev set.

    python -m evals.yes_no [--data FILE]

Each row of ``evals/data/yes_no_traps.jsonl`` (see evals/data/README.md) is a knowledge-base
condition, a customer's question with a concrete quantity, a model-like answer opening with
"Yes," or "No," and whether that answer contradicts the condition. The check runs on the
answer's first sentence, the question as the customer's only turn and the evidence as the only
passage. Prints precision, recall and accuracy at finding the contradictions, a table of the
misses, and as its last line one JSON object. The rules are tuned on this file only; it is a
dev set, not a benchmark.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from core.profile import sample_profile
from evals.report import figures_table, table
from guardrails.conditions import ConditionWords, check_conditions, contradictions
from guardrails.sentences import split_sentences

DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "yes_no_traps.jsonl"


class Trap(BaseModel):
    id: str
    article_id: str
    evidence: str
    question: str
    answer: str
    contradicts: bool


def load_traps(path: Path = DEFAULT_DATA) -> list[Trap]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Trap.model_validate_json(line) for line in lines if line.strip()]


# The traps are written on the sample's articles: its words (Hoppa's name, its customer kinds).
SAMPLE_WORDS = ConditionWords.of(sample_profile().name, sample_profile().condition_scopes)


def flags(trap: Trap) -> tuple[bool, str]:
    """Whether the check says the answer contradicts the evidence, and what it found."""
    sentence = split_sentences(trap.answer)[0]
    findings = check_conditions(sentence, [trap.question], [trap.evidence], SAMPLE_WORDS)
    against = contradictions(findings)
    shown = against or findings
    return bool(against), "; ".join(f"{f.condition} / {f.customer} / met={f.met}" for f in shown)


def score(traps: Sequence[Trap]) -> tuple[dict[str, float], list[tuple[str, bool, str, str]]]:
    """Precision, recall and accuracy at flagging ``contradicts``, and each miss."""
    tp = fp = fn = 0
    misses = []
    for trap in traps:
        flagged, found = flags(trap)
        tp += flagged and trap.contradicts
        fp += flagged and not trap.contradicts
        fn += trap.contradicts and not flagged
        if flagged != trap.contradicts:
            misses.append((trap.id, trap.contradicts, trap.question[:60], found or "(nothing)"))
    n = len(traps)
    figures = {
        "n": float(n),
        "contradictions": float(tp + fn),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "accuracy": (n - len(misses)) / n if n else 1.0,
        "false_positives": float(fp),
        "false_negatives": float(fn),
    }
    return {k: round(v, 4) for k, v in figures.items()}, misses


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    figures, misses = score(load_traps(args.data))
    print(figures_table(f"Yes/no condition check on {args.data.name}", figures))
    print()
    print(table("Misses", misses, ("id", "contradicts", "question", "found")))
    print()
    print(json.dumps({"file": args.data.name, **figures}))


if __name__ == "__main__":
    main()
