"""LLM-judge quality scores for one answer (prompt ``score@1``): five metrics, 1-5, scaled to
0-1. Unparseable output is retried once and then scores nothing (None), never a made-up number."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.llm.base import ChatModel, first_json_object
from assistant.prompts import Prompt, ask_parsed
from evals.bench.metrics import JUDGE_METRICS
from knowledge_base.articles import Passage, format_passages


def parse_scores(text: str) -> dict[str, float] | None:
    data = first_json_object(text)
    if not isinstance(data, dict):
        return None
    scores: dict[str, float] = {}
    for name in JUDGE_METRICS:
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 5:
            return None
        scores[name] = (float(value) - 1.0) / 4.0
    return scores


def score_answer(
    model: ChatModel,
    prompt: Prompt,
    *,
    question: str,
    answer: str,
    reference: str,
    passages: Sequence[Passage],
) -> dict[str, float] | None:
    return ask_parsed(
        model,
        prompt,
        parse_scores,
        {
            "passages": format_passages(passages) or "(none)",
            "question": question,
            "reference": reference.strip() or "(none given: judge accuracy from the passages)",
            "answer": answer,
        },
    )
