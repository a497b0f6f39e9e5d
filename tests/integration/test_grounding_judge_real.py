"""The grounding judge on the embedded model: probabilities read from llama.cpp's logits."""

from __future__ import annotations

import pytest

from core.llm.base import ChatMessage
from core.llm.llama_cpp import LlamaCppModel
from core.prompts import load_prompt
from guardrails.calibration import load_calibration
from guardrails.judge import grounding_probability
from tests.conftest import make_passage

pytestmark = pytest.mark.integration

REFUNDS = make_passage(
    "ref-001",
    "Refunds for missing or damaged items must be requested within 7 days of delivery. "
    "Open Orders, select the order and tap Get Help.",
)


def test_option_probabilities_agree_with_what_the_model_then_writes(llama: LlamaCppModel) -> None:
    ask = [
        ChatMessage(role="system", content="Answer with one word: Yes or No."),
        ChatMessage(role="user", content="Is Paris the capital of France? Answer Yes or No."),
    ]
    probabilities = llama.option_probabilities(ask, ("Yes", "No"))
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert probabilities["Yes"] > 0.9
    # scoring leaves the model in a state where generation still works
    assert llama.complete(ask, max_tokens=2).text.strip().startswith("Yes")


def test_a_faithful_answer_is_more_likely_supported_than_an_invented_one(
    llama: LlamaCppModel,
) -> None:
    def supported(answer: str) -> float:
        return grounding_probability(
            llama,
            conversation="Customer: My cake arrived crushed. Can I get a refund?",
            passages=[REFUNDS],
            answer=answer,
            prompt=load_prompt("grounding@2"),
        )

    faithful = supported(
        "Yes: request it within 7 days of delivery. Open Orders, select the order and tap Get Help."
    )
    invented = supported("Yes, and as a loyal customer you also get a free cake every month.")
    # measured 0.72 and 0.51; the shipped threshold (0.70) passes the first, not the second
    assert faithful > invented + 0.15, (faithful, invented)
    assert invented < load_calibration().judge


def test_resuming_from_a_cached_prefix_gives_the_same_probabilities_and_completions() -> None:
    from tests.integration.conftest import SETTINGS

    cached = LlamaCppModel.load(
        SETTINGS.llm_model_path, n_ctx=2048, n_threads=SETTINGS.llm_threads, prefix_cache=True
    )
    plain = LlamaCppModel.load(SETTINGS.llm_model_path, n_ctx=2048, n_threads=SETTINGS.llm_threads)
    judge = [
        ChatMessage(role="system", content="Answer with one word: Yes or No."),
        ChatMessage(role="user", content="Is Paris the capital of France? Answer Yes or No."),
    ]
    other = [
        ChatMessage(role="system", content="You answer in one short sentence."),
        ChatMessage(role="user", content="Name the capital of Italy."),
    ]
    try:
        first = cached.option_probabilities(judge, ("Yes", "No"))
        written = cached.complete(other, max_tokens=12).text  # another prefix in between
        again = cached.option_probabilities(judge, ("Yes", "No"))  # resumed from the cache
        expected = plain.option_probabilities(judge, ("Yes", "No"))
        # reading a prompt in two pieces (the saved prefix, then the rest) is not bit-identical
        # to reading it in one batch: measured differences up to 0.03 in P("Yes")
        assert again["Yes"] == pytest.approx(first["Yes"], abs=0.05)
        assert again["Yes"] == pytest.approx(expected["Yes"], abs=0.05)
        assert written == plain.complete(other, max_tokens=12).text
        streamed: list[str] = []
        assert cached.complete(other, max_tokens=12, on_text=streamed.append).text == written
        assert "".join(streamed) == written and len(streamed) > 1
    finally:
        cached.close()
        plain.close()
