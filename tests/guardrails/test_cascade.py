from __future__ import annotations

import pytest

from core.conversation import Turn
from core.embeddings import HashingEmbedder
from core.errors import LLMError
from core.llm.fake import FakeChatModel
from core.prompts import load_prompt
from guardrails.calibration import Calibration
from guardrails.cascade import check_answer
from guardrails.compliance import load_policy
from guardrails.verdict import ReasonCode, Verdict
from knowledge_base.articles import Passage
from tests.conftest import judge_json, make_passage

CALIBRATION = Calibration(similarity=0.5, coverage=0.0, coverage_floor=0.0, judge=0.5)
PROMISE = "Refunds must be requested within 7 days of delivery. We will refund you in full."
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


def _turns(pairs: list[tuple[str, str]]) -> list[Turn]:
    return [Turn.model_validate({"role": role, "text": text}) for role, text in pairs]


def check(
    answer: str,
    model: FakeChatModel,
    *,
    passages: list[Passage] | None = None,
    turns: list[tuple[str, str]] | None = None,
    calibration: Calibration = CALIBRATION,
    with_policy: bool = False,
) -> Verdict:
    return check_answer(
        answer,
        [REFUND_POLICY] if passages is None else passages,
        embedder=HashingEmbedder(),
        judge_model=model,
        conversation=_turns(turns or [("customer", "Can I get a refund for my order?")]),
        calibration=calibration,
        judge_prompt=load_prompt("judge@1"),
        grounding_prompt=load_prompt("grounding@2"),
        policy=load_policy() if with_policy else None,
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
    model = FakeChatModel().enqueue("Yes")
    verdict = check(answer, model, turns=turns)
    assert verdict.flagged[0].missing_facts == ["30 days"]
    assert (verdict.outcome, verdict.tier, len(model.calls)) == ("pass", 2, 1)


def test_agreeing_with_the_customers_wrong_number_is_left_to_the_judge() -> None:
    turns = [("customer", "Can I get a refund after 30 days?")]
    model = FakeChatModel().enqueue("No")
    verdict = check("Yes, you can get a refund after 30 days.", model, turns=turns)
    assert (verdict.outcome, verdict.reasons, verdict.tier) == (
        "escalate",
        [ReasonCode.UNGROUNDED],
        2,
    )


def test_judge_may_overrule_a_low_similarity_flag() -> None:
    model = FakeChatModel().enqueue("Yes")
    verdict = check(OFF_TOPIC, model)
    assert (verdict.outcome, verdict.tier, verdict.reasons) == ("pass", 2, [])
    assert [f.sentence for f in verdict.flagged] == ["Our office dog loves long walks."]
    assert verdict.grounding_probability == 1.0
    assert "Yes or No" in model.calls[0][-1].content  # the grounding judge, not the rubric one


@pytest.mark.parametrize(
    ("supported", "outcome"), [("0.49", "escalate"), ("0.5", "pass"), ("0.9", "pass")]
)
def test_the_grounding_judge_passes_at_its_calibrated_probability(
    supported: str, outcome: str
) -> None:
    verdict = check(OFF_TOPIC, FakeChatModel().enqueue(supported))
    assert (verdict.outcome, verdict.tier, verdict.grounding_probability) == (
        outcome,
        2,
        float(supported),
    )
    if outcome == "escalate":
        assert verdict.reasons == [ReasonCode.UNGROUNDED]
        assert verdict.detail == "grounding judge: 0.49 likely supported, below 0.50"


def test_a_claim_sharing_too_few_words_with_the_evidence_fails_at_tier_1() -> None:
    model = FakeChatModel().enqueue("Yes")
    strict = CALIBRATION.model_copy(update={"coverage": 0.8, "coverage_floor": 0.5})
    verdict = check(OFF_TOPIC, model, calibration=strict)
    assert (verdict.outcome, verdict.reasons, verdict.tier) == (
        "escalate",
        [ReasonCode.UNGROUNDED],
        1,
    )
    (flagged,) = verdict.flagged
    assert (flagged.sentence, flagged.coverage) == ("Our office dog loves long walks.", 0.0)
    assert verdict.detail.startswith("word check: 0% of the words of 'Our office dog")
    assert model.calls == []  # the judge could not change it


def test_a_claim_between_the_floor_and_the_bar_goes_to_the_judge() -> None:
    answer = "Refunds must be requested within 7 days of delivery by our office dog."
    strict = CALIBRATION.model_copy(update={"coverage": 0.9, "coverage_floor": 0.5})
    model = FakeChatModel().enqueue("No")
    verdict = check(answer, model, calibration=strict)
    (flagged,) = verdict.flagged
    assert 0.5 <= flagged.coverage < 0.9
    assert (verdict.outcome, verdict.tier, len(model.calls)) == ("escalate", 2, 1)


def test_judge_may_overrule_a_missing_name() -> None:
    model = FakeChatModel().enqueue("Yes")
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
def test_a_compliance_rule_sends_the_answer_to_the_rubric_judge(
    reply: str, reason: ReasonCode
) -> None:
    verdict = check(PROMISE, FakeChatModel().enqueue(reply), with_policy=True)
    assert (verdict.outcome, verdict.reasons, verdict.tier) == ("escalate", [reason], 2)
    assert verdict.judge is not None and verdict.grounding_probability is None
    assert verdict.codes[-1] == "compensation_promise"
    assert verdict.detail.startswith(f"{reason}: ")


@pytest.mark.parametrize("answer", [OFF_TOPIC, PROMISE])
def test_judge_outage_escalates_as_llm_error(answer: str) -> None:
    model = FakeChatModel().enqueue(LLMError("model crashed"))
    verdict = check(answer, model, with_policy=True)
    assert (verdict.outcome, verdict.reasons, verdict.tier) == (
        "escalate",
        [ReasonCode.LLM_ERROR],
        2,
    )
    assert "model crashed" in verdict.detail
    assert verdict.flagged and verdict.judge is None


def test_a_grounding_judge_naming_neither_option_escalates_as_llm_error() -> None:
    verdict = check(OFF_TOPIC, FakeChatModel().enqueue("Maybe"))
    assert (verdict.outcome, verdict.reasons, verdict.tier) == (
        "escalate",
        [ReasonCode.LLM_ERROR],
        2,
    )
    assert "none of the options" in verdict.detail


def test_judge_malformed_twice_escalates_as_malformed_output() -> None:
    model = FakeChatModel().enqueue("all good", "still all good")
    verdict = check(PROMISE, model, with_policy=True)
    assert (verdict.reasons, verdict.tier) == ([ReasonCode.MALFORMED_OUTPUT], 2)
    assert len(model.calls) == 2


def test_the_customers_statements_ground_a_restatement() -> None:
    model = FakeChatModel()
    turns = [("customer", "My burger arrived cold and soggy."), ("assistant", "Sorry about that!")]
    verdict = check("Your burger arrived cold and soggy. " + FAITHFUL, model, turns=turns)
    assert (verdict.outcome, verdict.tier) == ("pass", 1)
    assert model.calls == []


def test_earlier_assistant_turns_are_not_evidence() -> None:
    model = FakeChatModel().enqueue("No")
    turns = [("assistant", "Our office dog loves long walks."), ("customer", "Cute!")]
    verdict = check(OFF_TOPIC, model, turns=turns)
    assert (verdict.reasons, verdict.tier) == ([ReasonCode.UNGROUNDED], 2)
    assert [f.sentence for f in verdict.flagged] == ["Our office dog loves long walks."]
    # grounding@2 shows the judge the conversation, as context that is not evidence
    assert (
        "Assistant: Our office dog loves long walks.\nCustomer: Cute!" in model.calls[0][-1].content
    )


def test_the_grounding_judge_reads_the_claims_best_windows_not_whole_articles() -> None:
    article = make_passage(
        "ref-001",
        "Refunds must be requested within 7 days of delivery. Our office is in Lisbon. "
        "Parking is free on weekends. The office dog is called Biscuit. Lunch is at noon. "
        "Open Orders and tap Get Help.",
        title="Refund deadlines",
    )
    model = FakeChatModel().enqueue("Yes")
    verdict = check(
        "Refunds must be requested within 7 days. Tap Get Help.",
        model,
        passages=[article],
        calibration=CALIBRATION.model_copy(update={"similarity": 0.99}),
    )
    assert (verdict.outcome, verdict.tier) == ("pass", 2)
    (prompt,) = [m.content for m in model.calls[0] if m.role == "user"]
    assert "Refunds must be requested within 7 days of delivery." in prompt
    assert "Open Orders and tap Get Help." in prompt
    assert "The office dog is called Biscuit." not in prompt
    assert "weekends. \u2026 Lunch" in prompt  # the gap is marked


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        ("Yes, we both get $10 when your friend orders.", "Do we both still get the $10?"),
        ("Our office dog loves long walks.", "(none)"),
    ],
)
def test_a_judge_without_the_conversation_sees_the_question_a_yes_or_no_answers(
    answer: str, shown: str
) -> None:
    model = FakeChatModel().enqueue("0.3")
    passage = make_passage("ref-002", "You and your friend both get $10 after their first order.")
    check_answer(
        answer,
        [passage],
        embedder=HashingEmbedder(),
        judge_model=model,
        conversation=_turns(
            [
                ("customer", "My friend signed up with my code."),
                ("assistant", "Great!"),
                ("customer", "Do we both still get the $10?"),
            ]
        ),
        calibration=CALIBRATION,
        judge_prompt=load_prompt("judge@1"),
        grounding_prompt=load_prompt("grounding@3"),
    )
    (prompt,) = [m.content for m in model.calls[0] if m.role == "user"]
    assert f"QUESTION THE REPLY ANSWERS (context only, not evidence): {shown}\n" in prompt
    assert "My friend signed up" not in prompt  # the conversation itself is not shown


MISSING_ITEM = "My order was delivered {} ago and the fries were missing. Can I still get a refund?"


def test_a_yes_that_a_condition_refuses_escalates_at_tier_1_without_the_judge() -> None:
    model = FakeChatModel()  # nothing queued: asking the judge would fail the check
    turns = [("customer", MISSING_ITEM.format("10 days"))]
    verdict = check("Yes, open Orders and tap Get Help.", model, turns=turns)
    assert (verdict.outcome, verdict.reasons, verdict.tier) == (
        "escalate",
        [ReasonCode.CONTRADICTS_CONDITION],
        1,
    )
    assert "'within 7 days' does not hold for the customer's '10 days'" in verdict.detail
    assert verdict.codes == ["contradicts_condition"]
    assert model.calls == []


def test_a_yes_that_meets_the_condition_still_goes_to_the_judge() -> None:
    model = FakeChatModel().enqueue("Yes")
    turns = [("customer", MISSING_ITEM.format("3 days"))]
    verdict = check("Yes, refunds must be requested within 7 days of delivery.", model, turns=turns)
    assert (verdict.outcome, verdict.tier, verdict.reasons, len(model.calls)) == ("pass", 2, [], 1)


def test_a_no_is_left_to_the_judge_even_when_the_condition_refuses() -> None:
    model = FakeChatModel().enqueue("Yes")
    turns = [("customer", MISSING_ITEM.format("10 days"))]
    verdict = check("No, refunds must be requested within 7 days of delivery.", model, turns=turns)
    assert (verdict.outcome, verdict.tier, len(model.calls)) == ("pass", 2, 1)
