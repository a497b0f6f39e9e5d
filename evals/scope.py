"""Calibrating the out-of-scope check: messages with nothing to do with the business (all XSTest
prompts, safe and unsafe: none is about deliveries) against the golden set's questions (all in
scope, including the ones the knowledge base cannot answer).

The check: the classifier says "unknown" and the best passage's dense similarity is below
``scope_threshold``. The threshold is chosen on the dev split (30% by id hash) as the highest one
that calls no dev in-scope question out of scope; the figures are reported on the test split.

    python -m evals.scope
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.pipeline.classify import IssueClassifier, load_taxonomy
from assistant.settings import SAMPLE_KB, Settings
from assistant.wiring import build_embedder
from core.cases import load_cases
from evals.injection import DEFAULT_DATA_DIR, split_of
from evals.report import table
from knowledge_base.articles import load_articles
from knowledge_base.ingest import ingest
from knowledge_base.search import HybridSearcher
from knowledge_base.store import ChromaStore

THRESHOLDS = tuple(float(t) for t in np.round(np.arange(0.0, 0.6, 0.01), 2))


def _signals(
    texts: Sequence[str], classifier: IssueClassifier, searcher: HybridSearcher, k: int
) -> list[tuple[bool, float]]:
    """(unknown issue type, best dense passage similarity) per text."""
    out = []
    for text in texts:
        unknown = not classifier.classify(text).known
        best = max((p.dense_score for p in searcher.search(text, k)), default=0.0)
        out.append((unknown, best))
    return out


def _rate(signals: Sequence[tuple[bool, float]], threshold: float) -> float:
    flagged = [unknown and best < threshold for unknown, best in signals]
    return sum(flagged) / max(len(flagged), 1)


def run(data_dir: Path = DEFAULT_DATA_DIR) -> dict[str, float]:
    settings = Settings()
    embedder = build_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        store = ChromaStore.persistent(Path(tmp) / "chroma", "scope")
        ingest(load_articles(settings.kb_path), store=store, embedder=embedder, progress=False)
        searcher = HybridSearcher(store, embedder)
        classifier = IssueClassifier.from_taxonomy(
            load_taxonomy(settings.taxonomy_path), embedder, threshold=settings.classifier_threshold
        )
        with (data_dir / "xstest" / "xstest_prompts.csv").open(encoding="utf-8") as handle:
            outside = [(row["id"], row["prompt"]) for row in csv.DictReader(handle)]
        inside = [(c.id, c.turns[-1].text) for c in load_cases(SAMPLE_KB / "questions.jsonl")]
        signals = {
            (name, split): _signals(
                [t for i, t in rows if split_of(i) == split],
                classifier,
                searcher,
                settings.retrieval_k,
            )
            for name, rows in (("outside", outside), ("inside", inside))
            for split in ("dev", "test")
        }
    dev_in, dev_out = signals["inside", "dev"], signals["outside", "dev"]
    admissible = [t for t in THRESHOLDS if _rate(dev_in, t) == 0.0]
    threshold = max(admissible, key=lambda t: (_rate(dev_out, t), -t)) if admissible else 0.0
    rows = []
    figures: dict[str, float] = {"threshold": threshold}
    for split in ("dev", "test"):
        out_rate = _rate(signals["outside", split], threshold)
        in_rate = _rate(signals["inside", split], threshold)
        rows.append(
            (
                split,
                len(signals["outside", split]),
                round(out_rate, 3),
                len(signals["inside", split]),
                round(in_rate, 3),
            )
        )
        figures[f"{split}_outside_caught"] = round(out_rate, 4)
        figures[f"{split}_inside_flagged"] = round(in_rate, 4)
    print(
        table(
            f"Out-of-scope check at scope_threshold {threshold} (chosen on dev)",
            rows,
            ("split", "outside n", "caught", "in scope n", "wrongly flagged"),
        )
    )
    return figures


if __name__ == "__main__":
    import json

    print()
    print(json.dumps(run()))
