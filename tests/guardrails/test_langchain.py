"""The answer check as a LangChain Runnable: question, passages and answer in, a Verdict out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from pydantic import ValidationError

from core.embeddings import HashingEmbedder
from core.llm.fake import FakeChatModel
from guardrails.langchain import AnswerCheck, CheckInput, Judge
from guardrails.verdict import ReasonCode, Verdict
from knowledge_base.langchain import TetherRetriever
from knowledge_base.search import HybridSearcher
from knowledge_base.store import InMemoryStore
from tests.conftest import FAKE_CALIBRATION, make_passage

QUESTION = "How much does an Instant Pay cash-out cost?"
SUPPORTED = "Each Instant Pay cash-out costs $0.85."
# Names no passage gives: tier 1 flags the sentence and would leave it to a judge.
UNSUPPORTED = "Instant Pay is free for couriers in Berlin on Sundays."
# An amount no passage states: tier 1 fails it on its own, judge or not.
WRONG_FEE = "Each Instant Pay cash-out costs $2.50."


@pytest.fixture
def retriever(embedder: HashingEmbedder, kb_store: InMemoryStore) -> TetherRetriever:
    return TetherRetriever(searcher=HybridSearcher(kb_store, embedder), k=3)


@pytest.fixture
def check(embedder: HashingEmbedder) -> AnswerCheck:
    return AnswerCheck(embedder=embedder, calibration=FAKE_CALIBRATION)


def test_a_supported_answer_passes_at_tier_1(
    check: AnswerCheck, retriever: TetherRetriever
) -> None:
    passages = retriever.invoke(QUESTION)
    verdict = check.invoke({"question": QUESTION, "passages": passages, "answer": SUPPORTED})
    assert isinstance(verdict, Verdict)
    assert (verdict.outcome, verdict.tier, verdict.flagged, verdict.sources) == (
        "pass",
        1,
        [],
        ["pay-002"],
    )


def test_an_unsupported_answer_escalates_as_ungrounded_without_a_judge(
    check: AnswerCheck, retriever: TetherRetriever
) -> None:
    passages = retriever.invoke(QUESTION)
    verdict = check.invoke({"question": QUESTION, "passages": passages, "answer": UNSUPPORTED})
    assert (verdict.outcome, verdict.reasons, verdict.tier) == (
        "escalate",
        [ReasonCode.UNGROUNDED],
        1,
    )
    (flagged,) = verdict.flagged
    assert (flagged.sentence, flagged.missing_facts) == (UNSUPPORTED, ["Berlin", "Sundays"])
    assert "no judge was asked" in verdict.detail


def test_an_unstated_amount_fails_at_tier_1(check: AnswerCheck, retriever: TetherRetriever) -> None:
    passages = retriever.invoke(QUESTION)
    verdict = check.invoke(CheckInput(question=QUESTION, passages=passages, answer=WRONG_FEE))
    assert (verdict.outcome, verdict.reasons, verdict.tier) == (
        "escalate",
        [ReasonCode.UNGROUNDED],
        1,
    )
    assert verdict.detail.startswith("fact check: $2.50")


def test_tether_passages_are_accepted_too(check: AnswerCheck) -> None:
    fee = make_passage("pay-002", "Each Instant Pay cash-out costs $0.85.", title="Instant Pay")
    verdict = check.invoke({"question": QUESTION, "passages": [fee], "answer": SUPPORTED})
    assert verdict.passed


def test_no_passages_escalates_no_relevant_articles(check: AnswerCheck) -> None:
    verdict = check.invoke({"question": QUESTION, "passages": [], "answer": SUPPORTED})
    assert (verdict.outcome, verdict.reasons) == ("escalate", [ReasonCode.NO_RELEVANT_ARTICLES])


def test_input_without_an_answer_is_a_usage_error(check: AnswerCheck) -> None:
    with pytest.raises(ValidationError):
        check.invoke({"question": QUESTION, "passages": []})


def test_batch_checks_each_answer(check: AnswerCheck, retriever: TetherRetriever) -> None:
    passages = retriever.invoke(QUESTION)
    inputs: list[CheckInput | Mapping[str, Any]] = [
        CheckInput(question=QUESTION, passages=passages, answer=answer)
        for answer in (SUPPORTED, UNSUPPORTED, WRONG_FEE)
    ]
    assert [v.outcome for v in check.batch(inputs)] == ["pass", "escalate", "escalate"]


def test_a_judge_decides_what_tier_1_flags(
    embedder: HashingEmbedder, retriever: TetherRetriever
) -> None:
    model = FakeChatModel().enqueue("0.9")
    check = AnswerCheck(embedder=embedder, calibration=FAKE_CALIBRATION, judge=Judge.bundled(model))
    passages = retriever.invoke(QUESTION)
    verdict = check.invoke({"question": QUESTION, "passages": passages, "answer": UNSUPPORTED})
    assert (verdict.outcome, verdict.tier, verdict.grounding_probability) == ("pass", 2, 0.9)
    assert len(model.calls) == 1


def test_retrieve_then_check_in_one_chain(check: AnswerCheck, retriever: TetherRetriever) -> None:
    chain = {
        "question": RunnablePassthrough(),
        "passages": retriever,
        "answer": RunnableLambda(lambda _: SUPPORTED),
    } | check
    verdict = chain.invoke(QUESTION)
    assert isinstance(verdict, Verdict)
    assert verdict.passed
