"""The relevance check on answers a benchmark run showed: how many wrong answers it withholds and
how many right ones it blocks, at each threshold (``python -m evals.relevance RUN.json``).

A run (``tether bench run ../shared/data/emanual --split dev ...``) keeps each shown answer but
not the evidence it was checked against; that evidence is rebuilt here with the same stages
(retrieve, focus) and tier 1's best window per sentence. Whether an answer is right is decided
against the reference answer (:func:`right`; its definition is calibrated on hand labels, see
evals/RELEVANCE_NOTES.md). Tune on the dev split, report on the test split.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

from assistant.pipeline import stages
from assistant.settings import Settings
from assistant.wiring import build_classifier, build_embedder
from core.cases import load_cases
from core.conversation import Turn
from evals.bench.runner import CaseResult, load_run
from evals.report import table
from evals.retrieval import dataset_articles
from guardrails.calibration import load_calibration
from guardrails.relevance import Relevance, relevance
from guardrails.tier1 import check_support
from knowledge_base.ingest import ingest
from knowledge_base.search import HybridSearcher
from knowledge_base.store import InMemoryStore

# An answer is right when the judge scores its accuracy 4 or 5 of 5 against the reference, or,
# where the judge gave no score, when it is close to the reference (calibrated on hand labels).
RIGHT_JUDGE = 0.75
RIGHT_SIMILARITY = 0.75


def right(result: CaseResult) -> bool:
    accuracy = result.metrics.get("judge_accuracy")
    if accuracy is not None:
        return accuracy >= RIGHT_JUDGE
    similarity = result.metrics.get("answer_similarity")
    return similarity is not None and similarity >= RIGHT_SIMILARITY


def answer_key(answer: str) -> str:
    """What a hand label of one exact answer text is kept under (the text itself is not)."""
    return hashlib.sha1(answer.encode()).hexdigest()[:10]


def label_of(result: CaseResult, labels: Mapping[str, bool]) -> bool | None:
    """The hand label of this exact answer text, if it has one."""
    return labels.get(f"{result.id}@{answer_key(result.outcome.answer)}")


def right_by(result: CaseResult, labels: Mapping[str, bool]) -> bool:
    """The hand label of the answer where there is one, else :func:`right`."""
    label = label_of(result, labels)
    return label if label is not None else right(result)


def measured(run_path: Path, settings: Settings) -> list[tuple[CaseResult, Relevance]]:
    """Each shown answer of the run with its relevance, on evidence rebuilt as the run had it."""
    run = load_run(run_path)
    folder = Path(run.config.dataset)
    cases = {c.id: c for c in load_cases(folder / "questions.jsonl")}
    overrides = {
        k: v
        for k, v in run.config.settings.items()
        if k
        in (
            "retrieval_k",
            "max_sections",
            "min_retrieval_score",
            "evidence",
            "evidence_sentences",
            "filter_confidence",
        )
    }
    config = settings.updated(overrides)
    embedder = build_embedder()
    store = InMemoryStore()
    ingest(dataset_articles(folder), store=store, embedder=embedder, progress=False)
    searcher = HybridSearcher(store, embedder)
    classifier = build_classifier(settings, embedder)
    calibration = load_calibration()
    out = []
    for result in run.cases:
        if not result.outcome.answered:
            continue
        query = result.outcome.core_issue
        found = stages.retrieve(query, classifier.classify(query), searcher, config)
        passages = stages.evidence(
            found if isinstance(found, list) else [], query, embedder, config
        )
        turns = [Turn(role="customer", text=t.text) for t in cases[result.id].turns]
        tier1 = check_support(
            result.outcome.answer,
            passages,
            embedder=embedder,
            threshold=calibration.similarity,
            window=calibration.window,
            conversation=[t.text for t in turns],
        )
        windows = [f.evidence for f in tier1.findings if f.evidence]
        out.append((result, relevance(query, result.outcome.answer, windows)))
    return out


def sweep(
    rows: Sequence[tuple[CaseResult, Relevance]], labels: Mapping[str, bool] | None = None
) -> list[dict[str, float]]:
    """For each coverage threshold (with and without the action check): the share of wrong
    answers withheld and of right answers blocked (right: the hand label where there is one,
    else :func:`right`)."""
    labels = labels or {}
    good = [r for r in rows if right_by(r[0], labels)]
    wrong = [r for r in rows if not right_by(r[0], labels)]
    table_rows = []
    for use_action in (False, True):
        for threshold in [x / 20 for x in range(0, 17)]:

            def blocks(
                item: tuple[CaseResult, Relevance], t: float = threshold, act: bool = use_action
            ) -> bool:
                return item[1].coverage < t or (act and item[1].action_conflict)

            table_rows.append(
                {
                    "threshold": threshold,
                    "action": float(use_action),
                    "wrong_withheld": sum(map(blocks, wrong)) / max(len(wrong), 1),
                    "right_blocked": sum(map(blocks, good)) / max(len(good), 1),
                }
            )
    return table_rows


def shares(run_path: Path, labels: Mapping[str, bool] | None = None) -> dict[str, float]:
    """Of the run's questions: the share answered and the share answered right (the hand
    label where there is one, else :func:`right`); of the answered ones, the share shown
    wrong."""
    labels = labels or {}
    cases = load_run(run_path).cases
    shown = [c for c in cases if c.outcome.answered]
    wrong = [c for c in shown if not right_by(c, labels)]
    return {
        "questions": len(cases),
        "unlabelled": sum(label_of(c, labels) is None for c in shown),
        "answered": round(len(shown) / max(len(cases), 1), 3),
        "answered_right": round((len(shown) - len(wrong)) / max(len(cases), 1), 3),
        "wrong_shown_of_answered": round(len(wrong) / max(len(shown), 1), 3),
    }


def load_labels(*paths: Path) -> dict[str, bool]:
    """Hand labels, one JSON object per line: ``{"id": ..., "answer": KEY, "right": true|false}``
    where KEY is the :func:`answer_key` of the one answer text the label is of."""
    rows = [
        json.loads(line)
        for path in paths
        for line in path.read_text(encoding="utf-8").splitlines()
        if line
    ]
    return {f"{row['id']}@{row['answer']}": bool(row["right"]) for row in rows}


def agreement(run_path: Path, labels: dict[str, bool]) -> dict[str, float]:
    """How often :func:`right` agrees with the hand labels on the run's shown answers, and
    Cohen's kappa."""
    pairs = [
        (label, right(c))
        for c in load_run(run_path).cases
        if c.outcome.answered and (label := label_of(c, labels)) is not None
    ]
    if not pairs:
        return {"labelled": 0}
    hand, ours = zip(*pairs, strict=True)
    return {
        "labelled": len(pairs),
        "agreement": round(sum(a == b for a, b in pairs) / len(pairs), 3),
        "kappa": round(float(cohen_kappa_score(hand, ours)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=Path)
    parser.add_argument("--labels", type=Path, nargs="*", default=[], help="hand labels (JSONL)")
    args = parser.parse_args()
    labels = load_labels(*args.labels)
    print("shares (hand labels where given):", json.dumps(shares(args.run, labels)))
    if labels:
        print("the automatic definition against the hand labels:", end=" ")
        print(json.dumps(agreement(args.run, labels)))
    rows = measured(args.run, Settings())
    results = sweep(rows, labels)
    unlabelled = sum(label_of(r, labels) is None for r, _ in rows)
    print(f"{len(rows)} shown answers ({unlabelled} without a hand label)")
    print(
        table(
            "Relevance check: wrong answers withheld vs right answers blocked",
            [[round(v, 3) for v in r.values()] for r in results],
            list(results[0].keys()),
        )
    )
    print(json.dumps({"answers": len(rows), "sweep": results}))


if __name__ == "__main__":
    main()
