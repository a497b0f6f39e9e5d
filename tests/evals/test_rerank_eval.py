from assistant.pipeline.classify import IssueClassifier
from assistant.settings import Settings
from core.embeddings import HashingEmbedder
from core.llm.fake import FakeChatModel
from evals.rerank import Ranking, figures, rank_question
from evals.retrieval import Question
from knowledge_base.search import HybridSearcher
from knowledge_base.store import InMemoryStore


def ranking(gold: str, retrieved: list[str], reranked: list[str], confidence: float) -> Ranking:
    return Ranking(
        id=gold, gold=[gold], retrieved=retrieved, reranked=reranked, confidence=confidence
    )


def test_the_figures_compare_both_orders_and_sweep_the_confidence() -> None:
    rows = [
        ranking("a", ["b", "a"], ["a", "b"], 0.99),  # reranking found it
        ranking("c", ["c", "d"], ["c", "d"], 0.97),  # both right
        ranking("e", ["e", "f"], ["f", "e"], 0.55),  # reranking lost it, unsure
        ranking("g", ["h"], ["h"], 1.0),  # gold not retrieved
    ]
    found = figures(rows)
    assert (found.first_gold_retrieval, found.first_gold_reranked) == (0.5, 0.5)
    assert found.gold_in_passages == 0.75
    assert found.confidence_auc == 0.5
    at = {row["threshold"]: row for row in found.sweep}
    assert at[0.0] == {
        "threshold": 0.0,
        "kept": 1.0,
        "first_gold_of_kept": 0.5,
        "first_gold_of_all": 0.5,
    }
    assert (at[0.6]["kept"], at[0.6]["first_gold_of_kept"]) == (0.75, 0.667)
    assert at[0.99]["kept"] == 0.5


def test_a_question_is_ranked_on_the_message_path_s_own_passages(
    kb_store: InMemoryStore, embedder: HashingEmbedder, classifier: IssueClassifier
) -> None:
    settings = Settings(min_retrieval_score=0.05)
    question = Question(
        id="q1",
        gold_article_ids=["pay-002"],
        question="How much does an Instant Pay cash-out cost?",
    )
    model = FakeChatModel()
    found = rank_question(
        question,
        searcher=HybridSearcher(kb_store, embedder),
        classifier=classifier,
        model=model,
        embedder=embedder,
        settings=settings,
    )
    assert len(found.retrieved) >= 2
    assert sorted(found.reranked) == sorted(found.retrieved)
    assert found.reranked[0] == "pay-002"
    assert len(model.scored) == min(len(found.retrieved), settings.rerank_depth)
    assert 0.0 < found.confidence <= 1.0
