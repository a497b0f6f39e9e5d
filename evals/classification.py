"""``tether eval classify DIR``: train the issue classifier on train.csv, score it on test.csv."""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path

from assistant.pipeline.classify import IssueClassifier
from assistant.wiring import build_embedder
from core.embeddings import Embedder
from core.errors import ConfigurationError
from evals.report import figures_table, table


def read_labelled(path: Path) -> tuple[list[str], list[str]]:
    if not path.is_file():
        raise ConfigurationError(f"{path} not found (expected a CSV with text,category)")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"text", "category"} <= rows[0].keys():
        raise ConfigurationError(f"{path} needs the columns text,category")
    return [r["text"] for r in rows], [r["category"] for r in rows]


def run(folder: Path, *, embedder: Embedder | None = None) -> dict[str, float]:
    train_texts, train_labels = read_labelled(folder / "train.csv")
    test_texts, test_labels = read_labelled(folder / "test.csv")
    start, start_cpu = time.perf_counter(), time.process_time()
    classifier = IssueClassifier(embedder or build_embedder()).fit(train_texts, train_labels)
    fitted, fitted_cpu = time.perf_counter(), time.process_time()
    predicted = classifier.predict(test_texts)
    done = time.perf_counter()
    correct = [p == g for p, g in zip(predicted, test_labels, strict=True)]
    errors = Counter(g for ok, g in zip(correct, test_labels, strict=True) if not ok)
    figures = {
        "n": len(test_texts),
        "classes": len(set(train_labels)),
        "accuracy": round(sum(correct) / len(correct), 4),
        "train_seconds": round(fitted - start, 1),
        # CPU time of this process (all its threads): the figure to compare on a loaded machine.
        "train_cpu_seconds": round(fitted_cpu - start_cpu, 1),
        "ms_per_message": round((done - fitted) * 1000 / len(test_texts), 2),
    }
    print(figures_table(f"Issue classification on {folder} ({len(train_texts)} train)", figures))
    print()
    print(table("Most missed categories", errors.most_common(5), ("category", "errors")))
    return figures
