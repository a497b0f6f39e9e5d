"""LLM-judge quality scores for one answer (prompt ``score@1``): five metrics, 1-5, scaled to
0-1. Unparseable output is retried once and then scores nothing (None), never a made-up number."""

from __future__ import annotations

from collections.abc import Sequence

from core.llm.base import ChatModel
from core.prompts import Prompt
from core.prompts.ask import ask_parsed
from core.prompts.ask import parse_scores as read_scores
from evals.bench.metrics import JUDGE_METRICS
from knowledge_base.articles import Passage, format_passages


def parse_scores(text: str) -> dict[str, float] | None:
    """The five 1-5 scores scaled to 0-1, or None unless the reply holds all of them."""
    scores = read_scores(text, JUDGE_METRICS, nested=False)
    if scores is None:
        return None
    return {name: (score.value - 1.0) / 4.0 for name, score in scores.items()}


def score_answer(
    model: ChatModel,
    prompt: Prompt,
    *,
    question: str,
    answer: str,
    reference: str,
    passages: Sequence[Passage],
) -> dict[str, float] | None:
    values = {
        "passages": format_passages(passages) or "(none)",
        "question": question,
        "reference": reference.strip() or "(none given: judge accuracy from the passages)",
        "answer": answer,
    }
    return ask_parsed(model, prompt, values, parse_scores)
