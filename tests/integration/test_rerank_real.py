"""Question likelihoods on the embedded model: the reranker's scores read from llama.cpp."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.pipeline.rerank import CONTEXT, rerank
from core.embeddings import MiniLMEmbedder
from core.llm.base import ChatMessage
from core.llm.llama_cpp import LlamaCppModel
from tests.conftest import make_passage

pytestmark = pytest.mark.integration

PASSAGE = CONTEXT.format(passage="Instant Pay. Each Instant Pay cash-out costs $0.85.")


def one_token_at_a_time(llama: LlamaCppModel, context: str, continuation: str) -> float:
    """The same log-likelihood the slow way: the whole text read again for each token."""
    model = llama._llama
    head = list(model.tokenize(context.encode(), add_bos=False, special=False))
    tail = list(model.tokenize(continuation.encode(), add_bos=False, special=False))
    total = 0.0
    for k, token in enumerate(tail):
        with llama._lock:
            llama._read(head + tail[:k])
            logits = llama._last_logits()
        total += float(logits[token] - np.logaddexp.reduce(logits))
    return total


def test_the_batched_score_is_the_sum_of_each_token_s_log_probability(
    llama: LlamaCppModel,
) -> None:
    question = " How much does Instant Pay cost?"
    batched = llama.continuation_logprob(PASSAGE, question)
    # reading in one batch is not bit-identical to reading token by token (measured 0.01)
    assert batched == pytest.approx(one_token_at_a_time(llama, PASSAGE, question), abs=0.1)
    assert batched < 0


def test_the_question_a_passage_answers_is_the_likelier_one_and_the_model_still_writes(
    llama: LlamaCppModel,
) -> None:
    asked = llama.continuation_logprob(PASSAGE, " How much does Instant Pay cost?")
    other = llama.continuation_logprob(PASSAGE, " How do I reset my password?")
    assert asked > other + 2, (asked, other)
    ask = [ChatMessage(role="user", content="Say the word yes.")]
    assert "yes" in llama.complete(ask, max_tokens=4).text.lower()


def test_the_section_that_answers_the_question_is_ranked_first(
    llama: LlamaCppModel, minilm: MiniLMEmbedder
) -> None:
    remove = make_passage(
        "remove",
        "To remove an email account, open Settings and select Accounts. Select the account "
        "and then select Remove.",
        title="Removing an email account",
    )
    open_mail = make_passage(
        "open",
        "Select the Mail app on the home screen. Your inbox opens with the newest email first.",
        title="Reading your email",
    )
    found = rerank(
        [remove, open_mail],
        "How can I open email?",
        model=llama,
        embedder=minilm,
        depth=4,
        sentences=3,
    )
    assert [p.article_id for p in found.passages] == ["open", "remove"], found.scores
