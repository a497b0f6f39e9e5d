from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from assistant.pipeline.assistant import Assistant, resolve_guards, resolve_handover
from assistant.pipeline.reply import HANDOFF_MESSAGE
from assistant.pipeline.settings import PipelineSettings
from core.conversation import Turn
from core.errors import ConfigurationError, LLMError, StoreError
from core.llm.fake import FakeChatModel
from core.profile import sample_profile
from guardrails.calibration import load_calibration
from guardrails.confidence import ConfidenceModel, load_confidence_model
from guardrails.verdict import ReasonCode
from knowledge_base.articles import Chunk
from knowledge_base.search import HybridSearcher
from knowledge_base.store import InMemoryStore, Vector
from tests.conftest import WRITTEN, answer_json, judge_json

Build = Callable[..., Assistant]


def test_a_grounded_answer_passes_with_citations_and_stage_timings(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(
        answer_json(
            "Refunds for missing or damaged items must be requested within 7 days of delivery.",
            ["ref-001"],
        )
    )
    reply = make_assistant(model).respond(
        [Turn(role="customer", text="How long do I have to request a refund for missing items?")]
    )
    assert reply.answered
    assert reply.verdict.passed
    assert [c.article_id for c in reply.citations] == ["ref-001"]
    assert reply.citations[0].title == "Refund deadlines"
    assert reply.classification.issue_type == "refunds"
    assert reply.reasoning == "The passage states it."
    assert {"condense", "classify", "retrieve", "generate", "guardrail", "total"} <= set(
        reply.latency_ms
    )


def test_a_wrong_deadline_is_withheld_and_escalated(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(
        answer_json("You can request a refund within 30 days of delivery.", ["ref-001"]),
        judge_json(),  # even a judge that approves cannot overrule a missing number
    )
    reply = make_assistant(model).respond(
        [Turn(role="customer", text="How long do I have to request a refund?")]
    )
    assert not reply.answered
    assert reply.text == HANDOFF_MESSAGE
    assert ReasonCode.UNGROUNDED in reply.verdict.reasons
    assert reply.withheld_answer == "You can request a refund within 30 days of delivery."
    assert any("30" in fact for f in reply.verdict.flagged for fact in f.missing_facts)


def test_a_question_with_no_relevant_article_never_reaches_the_model(make_assistant: Build) -> None:
    model = FakeChatModel()
    reply = make_assistant(model, min_retrieval_score=0.9).respond(
        [Turn(role="customer", text="Do you deliver to research stations in Antarctica?")]
    )
    assert not reply.answered
    assert ReasonCode.NO_RELEVANT_ARTICLES in reply.verdict.reasons
    assert reply.verdict.tier == 0
    assert model.calls == []


def test_a_failing_model_escalates_with_llm_error(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(LLMError("connection refused"))
    reply = make_assistant(model).respond(
        [Turn(role="customer", text="How much does Instant Pay cost?")]
    )
    assert not reply.answered
    assert reply.verdict.reasons == [ReasonCode.LLM_ERROR]
    assert "connection refused" in reply.verdict.detail


def test_malformed_output_twice_escalates(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue("garbage", "more garbage")
    reply = make_assistant(model).respond(
        [Turn(role="customer", text="How much does Instant Pay cost?")]
    )
    assert reply.verdict.reasons == [ReasonCode.MALFORMED_OUTPUT]
    assert len(model.calls) == 2


def test_a_model_that_declines_escalates(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(answer_json("", [], answerable=False))
    reply = make_assistant(model).respond(
        [Turn(role="customer", text="How much does Instant Pay cost?")]
    )
    assert reply.verdict.reasons == [ReasonCode.MODEL_DECLINED]


class BrokenStore(InMemoryStore):
    def query(
        self, vector: Vector, k: int, *, issue_type: str | None = None
    ) -> list[tuple[Chunk, float]]:
        raise StoreError("chroma is down")

    def chunks(self) -> list[Chunk]:
        raise StoreError("chroma is down")


def test_a_failing_store_escalates_with_store_error(make_assistant: Build) -> None:
    assistant = make_assistant(FakeChatModel())
    assistant.searcher = HybridSearcher(BrokenStore(), assistant.embedder)
    reply = assistant.respond([Turn(role="customer", text="How much does Instant Pay cost?")])
    assert reply.verdict.reasons == [ReasonCode.STORE_ERROR]
    assert not reply.answered


def test_facts_the_customer_stated_earlier_count_as_evidence(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(
        answer_json(
            "Refunds for missing or damaged items must be requested within 7 days of delivery, "
            "so your order from March 3 is still within 7 days.",
            ["ref-001"],
        )
    )
    reply = make_assistant(model).respond(
        [
            Turn(role="customer", text="My order from March 3 arrived with missing items."),
            Turn(role="assistant", text="Sorry to hear that."),
            Turn(role="customer", text="How long do I have to request a refund for it?"),
        ]
    )
    assert reply.answered, reply.verdict
    assert len(model.calls) == 1  # tier 1 passed: the judge was never asked


CONVERSATION = [
    Turn(role="customer", text="Can I get my courier earnings early?"),
    Turn(role="assistant", text="Yes, with Instant Pay."),
    Turn(role="customer", text="how much is it"),
]


def test_the_llm_condensation_writes_the_core_issue_when_configured(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(
        "How much does an Instant Pay cash-out cost?",
        answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"]),
    )
    reply = make_assistant(model, condense="llm").respond(CONVERSATION)
    assert reply.core_issue == "How much does an Instant Pay cash-out cost?"
    assert "how much is it" in model.calls[0][1].content
    assert reply.answered


def test_a_failing_llm_condensation_falls_back_to_the_rule(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(
        LLMError("timeout"), answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"])
    )
    reply = make_assistant(model, condense="llm").respond(CONVERSATION)
    assert reply.core_issue.startswith("how much is it Yes, with Instant Pay.")
    assert reply.answered


def test_a_rewrite_that_is_no_question_falls_back_to_the_rule(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(
        "Instant Pay costs $2.00 per cash-out.",
        answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"]),
    )
    reply = make_assistant(model, condense="llm").respond(CONVERSATION)
    assert reply.core_issue.startswith("how much is it Yes, with Instant Pay.")
    assert "$2.00" not in model.calls[1][-1].content


def test_the_message_path_settings_are_a_part_of_the_settings() -> None:
    from assistant.pipeline.settings import PipelineSettings
    from assistant.settings import Settings

    settings = Settings(retrieval_k=9, answer_prompt="answer@1", condense="llm")
    assert isinstance(settings, PipelineSettings)  # inherited, not mirrored
    assert (settings.retrieval_k, settings.answer_prompt, settings.condense) == (
        9,
        "answer@1",
        "llm",
    )
    assert settings.grounding_prompt == PipelineSettings().grounding_prompt == "grounding@2"
    assert settings.guardrails_calibration is None  # the bundled calibration file


def test_with_config_checks_each_override_and_keeps_the_seams(make_assistant: Build) -> None:
    base = make_assistant(FakeChatModel())
    variant = base.with_config({"answer_prompt": "answer@1", "retrieval_k": 3})
    assert (variant.settings.answer_prompt, variant.settings.retrieval_k) == ("answer@1", 3)
    assert variant.answer_prompt.ref == "answer@1"
    assert (variant.model, variant.searcher, variant.classifier) == (
        base.model,
        base.searcher,
        base.classifier,
    )
    assert base.settings.answer_prompt == "answer@2"  # the base is unchanged
    with pytest.raises(ConfigurationError, match="not message-path settings"):
        base.with_config({"llm_backend": "openai"})
    with pytest.raises(ConfigurationError, match="retrieval_k"):
        base.with_config({"retrieval_k": 0})


def test_an_uncited_answer_cites_the_articles_its_sentences_were_checked_against(
    make_assistant: Build,
) -> None:
    model = FakeChatModel().enqueue(answer_json("Each Instant Pay cash-out costs $0.85.", []))
    reply = make_assistant(model).respond(
        [Turn(role="customer", text="How much does an Instant Pay cash-out cost?")]
    )
    assert reply.answered
    assert [c.article_id for c in reply.citations] == ["pay-002"]
    assert reply.verdict.sources == ["pay-002"]


def test_with_reranking_the_answer_is_written_from_the_passage_that_prompts_the_question(
    make_assistant: Build,
) -> None:
    model = FakeChatModel().enqueue(
        answer_json("Instant Pay unlocks after 25 deliveries.", ["pay-002"])
    )
    reply = make_assistant(model, rerank="likelihood", rerank_keep=1).respond(
        [Turn(role="customer", text="When does Instant Pay unlock after deliveries?")]
    )
    assert reply.answered
    assert len(model.scored) >= 2
    assert reply.passages[0].chunk.section == "Eligibility"
    assert {p.article_id for p in reply.passages} == {"pay-002"}  # each of its sections
    assert "Instant Pay unlocks after 25" in model.calls[-1][-1].content
    assert "rerank" in reply.latency_ms


def test_a_question_no_passage_clearly_prompts_is_handed_over_before_any_answer(
    make_assistant: Build,
) -> None:
    model = FakeChatModel()
    reply = make_assistant(model, rerank="likelihood", rerank_confidence=0.99).respond(
        [Turn(role="customer", text="When does Instant Pay unlock after deliveries?")]
    )
    assert not reply.answered
    assert reply.verdict.reasons == [ReasonCode.OFF_QUESTION]
    assert model.calls == []
    assert model.scored


def test_with_reranking_off_no_passage_is_scored(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(
        answer_json("Instant Pay unlocks after 25 deliveries.", ["pay-002"])
    )
    reply = make_assistant(model, rerank="none").respond(
        [Turn(role="customer", text="When does Instant Pay unlock after deliveries?")]
    )
    assert reply.answered
    assert model.scored == []
    assert "rerank" not in reply.latency_ms


BY_DECLINING = {
    "answer_prompt": "answer@9",
    "handover": "decline_probability",
    "decline_probability": 0.3,
}
# A confidence model of the probability of declining alone: confidence = 1 - P("none").
DOUBT_ONLY = ConfidenceModel(
    decline_log_odds=-1.0, question_similarity=0.0, retrieval_best=0.0, bias=0.0, threshold=0.5
)


def test_an_answer_the_model_was_likely_to_decline_is_handed_over(make_assistant: Build) -> None:
    question = [Turn(role="customer", text="How much does an Instant Pay cash-out cost?")]
    unsure = FakeChatModel().enqueue("1", "0.4")  # one sentence named; P("none") = 0.4
    reply = make_assistant(unsure, **BY_DECLINING).respond(question)
    assert not reply.answered
    assert reply.verdict.reasons == [ReasonCode.MODEL_DECLINED]
    assert "0.40" in reply.verdict.detail
    sure = FakeChatModel().enqueue("1", "0.1")
    shown = make_assistant(sure, **BY_DECLINING).respond(question)
    assert shown.answered
    assert shown.signals is not None and shown.answer_confidence is None  # read, no model


def test_with_the_hand_over_on_an_unreadable_probability_of_declining_escalates(
    make_assistant: Build,
) -> None:
    question = [Turn(role="customer", text="How much does an Instant Pay cash-out cost?")]
    model = FakeChatModel().enqueue("1", LLMError("no logprobs"))
    reply = make_assistant(model, **BY_DECLINING).respond(question)
    assert not reply.answered
    assert reply.verdict.reasons == [ReasonCode.LLM_ERROR]
    off = FakeChatModel().enqueue("1", LLMError("no logprobs"))
    hand_over_off = make_assistant(off, **{**BY_DECLINING, "decline_probability": 1.0})
    assert hand_over_off.respond(question).answered


def test_by_default_the_answer_is_passage_sentences_and_an_unsure_model_hands_over(
    make_assistant: Build,
) -> None:
    defaults = PipelineSettings()
    configured = {name: getattr(defaults, name) for name in WRITTEN}  # undo the tests' pin
    question = [Turn(role="customer", text="How much does an Instant Pay cash-out cost?")]
    sure = make_assistant(FakeChatModel().enqueue("1", "0.01"), **configured).respond(question)
    assert sure.answered
    assert sure.text in " ".join(p.text for p in sure.passages)  # the passages' own words
    assert sure.decline_probability == pytest.approx(0.01)
    unsure = make_assistant(FakeChatModel().enqueue("1", "0.2"), **configured).respond(question)
    assert unsure.verdict.reasons == [ReasonCode.LOW_CONFIDENCE]  # the bundled model's call
    assert sure.answer_confidence is not None and unsure.answer_confidence is not None
    assert sure.answer_confidence > unsure.answer_confidence
    assert (defaults.answer_prompt, defaults.handover) == ("answer@11", None)


def test_by_default_each_question_of_a_message_gets_its_own_pick(make_assistant: Build) -> None:
    defaults = PipelineSettings()
    configured = {name: getattr(defaults, name) for name in WRITTEN}
    model = FakeChatModel().enqueue("1", "0.01", "1", "0.01")
    two = "How much does an Instant Pay cash-out cost, and how long do I have to request a refund?"
    reply = make_assistant(model, **configured).respond([Turn(role="customer", text=two)])
    assert reply.answered
    assert len(model.calls) == 4  # a pick and its P("none") for each question
    one = make_assistant(FakeChatModel().enqueue("1", "0.01"), **configured, answer_each=False)
    assert one.respond([Turn(role="customer", text=two)]).answered


def test_the_relevance_threshold_is_the_settings_then_the_profiles_then_the_calibrations() -> None:
    manual = sample_profile().model_copy(update={"relevance_coverage": 0.6})
    assert (
        resolve_guards(PipelineSettings(), sample_profile()).calibration.relevance_coverage == 0.0
    )
    assert resolve_guards(PipelineSettings(), manual).calibration.relevance_coverage == 0.6
    chosen = PipelineSettings(relevance_coverage=0.3)
    assert resolve_guards(chosen, manual).calibration.relevance_coverage == 0.3
    # Only the relevance threshold: the model's thresholds stay the calibration's.
    assert resolve_guards(chosen, manual).calibration.similarity == load_calibration().similarity


def test_the_tv_makers_profile_sets_what_was_chosen_on_its_dev_split() -> None:
    found = Path(__file__).resolve().parents[3] / "profiles" / "tv-maker" / "profile.yaml"
    chosen = yaml.safe_load(found.read_text(encoding="utf-8"))
    assert (chosen["relevance_coverage"], chosen["handover"]) == (0.6, "decline_probability")


def test_with_the_confidence_hand_over_an_unsure_answer_is_held_below_its_threshold(
    make_assistant: Build,
) -> None:
    question = [Turn(role="customer", text="How much does an Instant Pay cash-out cost?")]
    config = {"answer_prompt": "answer@9", "handover": "confidence", "confidence_model": DOUBT_ONLY}
    unsure = make_assistant(FakeChatModel().enqueue("1", "0.6"), **config).respond(question)
    assert not unsure.answered
    assert unsure.verdict.reasons == [ReasonCode.LOW_CONFIDENCE]
    assert unsure.answer_confidence == pytest.approx(0.4)
    assert unsure.signals is not None and unsure.signals.decline_probability == pytest.approx(0.6)
    assert unsure.withheld_answer  # the draft is kept for the person who answers
    # At P("none") 0.4 the probability rule (0.3) would hand over; the model shows it.
    sure = make_assistant(FakeChatModel().enqueue("1", "0.4"), **config).respond(question)
    assert sure.answered
    assert sure.answer_confidence == pytest.approx(0.6)


def test_the_answers_similarity_to_the_question_lowers_its_confidence(
    make_assistant: Build,
) -> None:
    question = [Turn(role="customer", text="How much does an Instant Pay cash-out cost?")]
    near = DOUBT_ONLY.model_copy(update={"question_similarity": 20.0, "bias": -20.0})
    config = {"answer_prompt": "answer@9", "handover": "confidence", "confidence_model": near}
    reply = make_assistant(FakeChatModel().enqueue("1", "0.01"), **config).respond(question)
    assert reply.signals is not None
    assert reply.answer_confidence == pytest.approx(near.confidence(reply.signals), abs=1e-4)
    similarity = reply.signals.question_similarity
    assert 0.0 < similarity < 1.0
    assert reply.answered is (near.confidence(reply.signals) >= 0.5)
    stricter = near.model_copy(update={"bias": -20.0 * similarity - 10.0})
    held = make_assistant(
        FakeChatModel().enqueue("1", "0.01"), **{**config, "confidence_model": stricter}
    ).respond(question)
    assert held.verdict.reasons == [ReasonCode.LOW_CONFIDENCE]
    assert "similarity to the question" in held.verdict.detail


def test_the_hand_over_is_the_settings_then_the_profiles_then_the_confidence_model() -> None:
    manual = sample_profile().model_copy(update={"handover": "decline_probability"})
    assert resolve_handover(PipelineSettings(), manual).model is None
    assert resolve_handover(PipelineSettings(), sample_profile()).model == load_confidence_model()
    chosen = PipelineSettings(handover="confidence", confidence_model=DOUBT_ONLY)
    assert resolve_handover(chosen, manual).model == DOUBT_ONLY


def test_a_missing_confidence_model_is_a_configuration_error(tmp_path: Path) -> None:
    settings = PipelineSettings(handover="confidence", confidence_model=tmp_path / "none.yaml")
    with pytest.raises(ConfigurationError, match=r"none\.yaml"):
        resolve_handover(settings, sample_profile())
