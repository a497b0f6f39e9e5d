from __future__ import annotations

import pytest

from assistant.embeddings import HashingEmbedder
from assistant.errors import LLMError
from assistant.llm.fake import FakeChatModel
from guardrails.cascade import check_answer, format_conversation
from guardrails.verdict import ReasonCode, Verdict
from knowledge_base.articles import Passage
from tests.conftest import judge_json, make_passage

THRESHOLD = 0.5
REFUND_POLICY = make_passage(
    "ref-001",
    "Refunds must be requested within 7 days of delivery. Open Orders and tap Get Help.",
    title="Refund deadlines",
    issue_type="refunds",
    score=0.9,
)
FAITHFUL = (
    "Refunds must be requested within 7 days of delivery [ref-001]. Open Orders and tap Get Help."
)
CONTRADICTION = "You can request a refund within 30 days."
OFF_TOPIC = "Refunds must be requested within 7 days of delivery. Our office dog loves long walks."


def check(
    answer: str,
    model: FakeChatModel,
    *,
    passages: list[Passage] | None = None,
    turns: list[tuple[str, str]] | None = None,
) -> Verdict:
    return check_answer(
        answer,
        [REFUND_POLICY] if passages is None else passages,
        embedder=HashingEmbedder(),
        judge_model=model,
        conversation_turns=turns or [("customer", "Can I get a refund for my order?")],
        threshold=THRESHOLD,
        window=2,
    )


def test_answer_supported_at_tier_1_passes_without_calling_the_judge() -> None:
    model = FakeChatModel()
    verdict = check(FAITHFUL, model)
    assert (verdict.outcome, verdict.tier, verdict.judge, verdict.flagged) == ("pass", 1, None, [])
    assert model.calls == []


def test_no_passages_escalates_at_tier_1_without_the_judge() -> None:
    model = FakeChatModel()
    verdict = check(FAITHFUL, model, passages=[])
    assert verdict.outcome == "escalate"
    assert (verdict.reasons, verdict.tier) == ([ReasonCode.NO_RELEVANT_ARTICLES], 1)
    assert model.calls == []


def test_planted_contradiction_escalates_even_when_the_judge_would_approve() -> None:
    model = FakeChatModel().enqueue(judge_json())
    verdict = check(CONTRADICTION, model)
    assert verdict.outcome == "escalate"
    assert (verdict.reasons, verdict.tier, verdict.judge) == ([ReasonCode.UNGROUNDED], 1, None)
    (flagged,) = verdict.flagged
    assert flagged.missing_facts == ["30 days"]
    assert "30 days" in verdict.detail
    assert model.calls == []  # its verdict could not change the outcome: not asked


def test_a_number_the_customer_gave_is_not_a_hard_fail() -> None:
    model = FakeChatModel()
    turns = [("customer", "I paid $45.20 and it never came.")]
    answer = "Refunds must be requested within 7 days of delivery for $45.20."
    verdict = check(answer, model, turns=turns)
    assert (verdict.outcome, verdict.tier) == ("pass", 1)
    assert model.calls == []


def test_a_number_only_the_customers_question_mentions_goes_to_the_judge() -> None:
    turns = [("customer", "Can I get a refund after 30 days?")]
    answer = "No, refunds must be requested within 7 days of delivery, not after 30 days."
    model = FakeChatModel().enqueue(judge_json())
    verdict = check(answer, model, turns=turns)
    assert verdict.flagged[0].missing_facts == ["30 days"]
    assert (verdict.outcome, verdict.tier, len(model.calls)) == ("pass", 2, 1)


def test_agreeing_with_the_customers_wrong_number_is_left_to_the_judge() -> None:
    turns = [("customer", "Can I get a refund after 30 days?")]
    model = FakeChatModel().enqueue(judge_json(grounding=False))
    verdict = check("Yes, you can get a refund after 30 days.", model, turns=turns)
    assert (verdict.outcome, verdict.reasons, verdict.tier) == (
        "escalate",
        [ReasonCode.UNGROUNDED],
        2,
    )


def test_judge_may_overrule_a_low_similarity_flag() -> None:
    model = FakeChatModel().enqueue(judge_json())
    verdict = check(OFF_TOPIC, model)
    assert (verdict.outcome, verdict.tier, verdict.reasons) == ("pass", 2, [])
    assert [f.sentence for f in verdict.flagged] == ["Our office dog loves long walks."]
    assert verdict.judge is not None


def test_judge_may_overrule_a_missing_name() -> None:
    model = FakeChatModel().enqueue(judge_json())
    verdict = check("Refunds must be requested within 7 days of delivery via Hoppa.", model)
    assert verdict.flagged[0].missing_facts == ["Hoppa"]
    assert (verdict.outcome, verdict.tier) == ("pass", 2)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (judge_json(grounding=False), ReasonCode.UNGROUNDED),
        (judge_json(coherence=False), ReasonCode.INCOHERENT),
        (judge_json(compliance=False), ReasonCode.NON_COMPLIANT),
    ],
)
def test_each_failed_criterion_maps_to_its_reason(reply: str, reason: ReasonCode) -> None:
    verdict = check(OFF_TOPIC, FakeChatModel().enqueue(reply))
    assert (verdict.outcome, verdict.reasons, verdict.tier) == ("escalate", [reason], 2)
    assert verdict.flagged and verdict.judge is not None
    assert verdict.detail.startswith(f"{reason}: ")


def test_judge_outage_escalates_as_llm_error() -> None:
    model = FakeChatModel().enqueue(LLMError("model crashed"))
    verdict = check(OFF_TOPIC, model)
    assert (verdict.outcome, verdict.reasons, verdict.tier) == (
        "escalate",
        [ReasonCode.LLM_ERROR],
        2,
    )
    assert "model crashed" in verdict.detail
    assert verdict.flagged and verdict.judge is None


def test_judge_malformed_twice_escalates_as_malformed_output() -> None:
    model = FakeChatModel().enqueue("all good", "still all good")
    verdict = check(OFF_TOPIC, model)
    assert (verdict.reasons, verdict.tier) == ([ReasonCode.MALFORMED_OUTPUT], 2)
    assert len(model.calls) == 2


@pytest.mark.parametrize("role", ["customer", "user"])
def test_the_customers_statements_ground_a_restatement(role: str) -> None:
    model = FakeChatModel()
    turns = [(role, "My burger arrived cold and soggy."), ("assistant", "Sorry about that!")]
    verdict = check("Your burger arrived cold and soggy. " + FAITHFUL, model, turns=turns)
    assert (verdict.outcome, verdict.tier) == ("pass", 1)
    assert model.calls == []


def test_earlier_assistant_turns_are_not_evidence() -> None:
    model = FakeChatModel().enqueue(judge_json(grounding=False))
    turns = [("assistant", "Our office dog loves long walks."), ("customer", "Cute!")]
    verdict = check(OFF_TOPIC, model, turns=turns)
    assert verdict.reasons == [ReasonCode.UNGROUNDED]
    assert (
        "Assistant: Our office dog loves long walks.\nCustomer: Cute!" in model.calls[0][-1].content
    )


def test_format_conversation_names_the_speakers() -> None:
    turns = [("customer", "hi"), ("assistant", "hello"), ("agent", "Sam here"), ("user", "ok")]
    assert format_conversation(turns) == (
        "Customer: hi\nAssistant: hello\nAgent: Sam here\nCustomer: ok"
    )
