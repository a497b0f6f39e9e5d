"""Question-likelihood reranking on a dataset: how often the first passage the answer is
written from is a gold article, in retrieval order and reranked, and how sure the reranker is
when it is right (``python -m evals.rerank FOLDER --split dev``).

The passages are the message path's own: classify, retrieve, the relevant sections (the same
stages and settings). The model's scores go through the response cache, so a rerun is free.
``rerank_confidence`` is read off the dev split's sweep; the test split reports it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel
from sklearn.metrics import roc_auc_score
from tqdm import tqdm

from assistant.pipeline import stages
from assistant.pipeline.classify import IssueClassifier
from assistant.settings import Settings
from assistant.wiring import build_classifier, build_embedder, cached_model
from core.embeddings import Embedder
from core.llm.base import ChatModel
from evals.report import figures_table, table
from evals.retrieval import Question, dataset_articles, load_questions
from knowledge_base.ingest import ingest
from knowledge_base.search import HybridSearcher
from knowledge_base.store import InMemoryStore

THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


class Ranking(BaseModel):
    """One question's relevant passages (article ids) in both orders, and the confidence."""

    id: str
    gold: list[str]
    retrieved: list[str]
    reranked: list[str]
    confidence: float

    def first_is_gold(self, order: Sequence[str]) -> bool:
        return bool(order) and order[0] in self.gold


def rank_question(
    question: Question,
    *,
    searcher: HybridSearcher,
    classifier: IssueClassifier,
    model: ChatModel,
    embedder: Embedder,
    settings: Settings,
) -> Ranking:
    query = question.query
    classification = classifier.classify(query)
    found = stages.retrieve(query, classification, searcher, settings)
    relevant = stages.relevant(found, classification, settings) if isinstance(found, list) else []
    passages = relevant if isinstance(relevant, list) else []
    ranked = stages.ranking(passages, query, model=model, embedder=embedder, settings=settings)
    return Ranking(
        id=question.id,
        gold=question.gold_article_ids,
        retrieved=[p.article_id for p in passages],
        reranked=[p.article_id for p in ranked.passages],
        confidence=ranked.confidence if passages else 0.0,
    )


class Figures(BaseModel):
    questions: int
    first_gold_retrieval: float
    first_gold_reranked: float
    gold_in_passages: float
    confidence_auc: float | None
    sweep: list[dict[str, float]]


def figures(rankings: Sequence[Ranking]) -> Figures:
    """First-passage accuracy in both orders, the AUC of the confidence at telling a right
    first passage, and at each threshold the share kept and the accuracy among them."""
    n = max(len(rankings), 1)
    right = [r.first_is_gold(r.reranked) for r in rankings]
    sweep = []
    for threshold in THRESHOLDS:
        kept = [ok for r, ok in zip(rankings, right, strict=True) if r.confidence >= threshold]
        sweep.append(
            {
                "threshold": threshold,
                "kept": round(len(kept) / n, 3),
                "first_gold_of_kept": round(sum(kept) / max(len(kept), 1), 3),
                "first_gold_of_all": round(sum(kept) / n, 3),
            }
        )
    both = len(set(right)) == 2
    auc = roc_auc_score(right, [r.confidence for r in rankings]) if both else None
    return Figures(
        questions=len(rankings),
        first_gold_retrieval=round(sum(r.first_is_gold(r.retrieved) for r in rankings) / n, 3),
        first_gold_reranked=round(sum(right) / n, 3),
        gold_in_passages=round(sum(bool(set(r.gold) & set(r.retrieved)) for r in rankings) / n, 3),
        confidence_auc=round(float(auc), 3) if auc is not None else None,
        sweep=sweep,
    )


def run(
    folder: Path, *, split: str, limit: int | None, settings: Settings, model: ChatModel
) -> list[Ranking]:
    embedder = build_embedder()
    store = InMemoryStore()
    ingest(dataset_articles(folder), store=store, embedder=embedder, progress=False)
    searcher = HybridSearcher(store, embedder)
    classifier = build_classifier(settings, embedder)
    questions = load_questions(folder / "questions.jsonl", split)[:limit]
    return [
        rank_question(
            q,
            searcher=searcher,
            classifier=classifier,
            model=model,
            embedder=embedder,
            settings=settings,
        )
        for q in tqdm(questions, desc=f"rerank {split}")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    args = parser.parse_args()
    settings = Settings()
    rankings = run(
        args.folder,
        split=args.split,
        limit=args.limit,
        settings=settings,
        model=cached_model(settings),
    )
    found = figures(rankings)
    print(
        figures_table(
            f"Reranking on {args.folder.name} ({args.split})", found.model_dump(exclude={"sweep"})
        )
    )
    print()
    print(
        table(
            "The first passage by confidence (hand over below the threshold)",
            [list(row.values()) for row in found.sweep],
            list(found.sweep[0].keys()),
        )
    )
    print(json.dumps(found.model_dump()))


if __name__ == "__main__":
    main()
