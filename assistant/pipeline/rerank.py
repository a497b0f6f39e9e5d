"""Question-likelihood reranking: the passage that makes the customer's question most likely
comes first.

Retrieval ranks sections by how much they share with the question; a small model then answers
from whichever section it reads first, often another feature's ("How can I open email?"
answered with the steps to remove an account). Here the model reads each section's title and
its sentences nearest the question, and scores how likely it would be to ask the customer's
question about it (log P(question | passage), unsupervised passage reranking, Sachan et al.
2022). The scores, turned into shares over the sections, also say how sure the ranking is: a
question no section clearly answers is handed over before an answer is written.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel
from scipy.special import softmax

from assistant.pipeline.focus import focus
from core.embeddings import Embedder
from core.errors import LLMError
from core.llm.base import ChatModel
from knowledge_base.articles import Passage

CONTEXT = "Passage: {passage}\nPlease write a question based on this passage.\nQuestion:"


class Ranked(BaseModel):
    """The passages in their new order, each one's log-likelihood of the question (in that
    order), and the share of the likelihood the first one holds (1.0 with one passage)."""

    passages: list[Passage]
    scores: list[float]
    confidence: float
    # The model could not score: the passages are in retrieval order, unscored.
    fallback: bool = False


def view(passage: Passage, question: str, embedder: Embedder, *, sentences: int) -> str:
    """What the model reads of a passage: its title and section, and its sentences nearest the
    question (in their order)."""
    near = focus([passage], question, embedder, sentences=sentences)
    return f"{passage.chunk.heading}. {near[0].text.strip() if near else ''}".strip()


def rerank(
    passages: Sequence[Passage],
    question: str,
    *,
    model: ChatModel,
    embedder: Embedder,
    depth: int,
    sentences: int,
) -> Ranked:
    """The first ``depth`` passages ordered by the question's likelihood given each (the rest
    follow in their order); in retrieval order when the model cannot score."""
    head, rest = list(passages[:depth]), list(passages[depth:])
    if len(head) < 2:
        return Ranked(passages=list(passages), scores=[], confidence=1.0)
    try:
        scores = [
            model.continuation_logprob(
                CONTEXT.format(passage=view(p, question, embedder, sentences=sentences)),
                " " + question.strip(),
            )
            for p in head
        ]
    except LLMError:
        return Ranked(passages=list(passages), scores=[], confidence=1.0, fallback=True)
    order = sorted(range(len(head)), key=lambda i: -scores[i])
    return Ranked(
        passages=[head[i] for i in order] + rest,
        scores=[scores[i] for i in order],
        confidence=float(softmax(scores).max()),
    )
