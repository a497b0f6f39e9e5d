from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.pipeline.assistant import Assistant
from assistant.pipeline.reply import Reply
from core.cases import BenchmarkCase
from core.conversation import Turn
from core.embeddings import HashingEmbedder
from core.llm.fake import FakeChatModel
from evals.bench.evaluators import EVALUATORS, METRICS, Evaluator, Value, evaluate_case
from evals.bench.metrics import CaseOutcome
from evals.bench.runner import run_cases
from tests.evals.bench.conftest import responder

CASE = BenchmarkCase(
    id="c",
    question="How much does each Instant Pay cash-out cost?",
    gold_article_ids=["pay-002"],
    issue_type="payments_and_pay",
    reference_answer="Each Instant Pay cash-out costs $0.85.",
)
ANSWERED = CaseOutcome(
    answered=True,
    answer="Each Instant Pay cash-out costs $0.85.",
    citations=["pay-002"],
    issue_type="payments_and_pay",
    passages=["ref-001", "pay-002"],
    answer_similarity=0.93,
    judge_scores={"accuracy": 1.0},
    latency_ms=12.0,
    tokens=40,
)


def test_the_list_of_metrics_is_derived_from_the_evaluators() -> None:
    assert list(METRICS) == [e.name for e in EVALUATORS]
    assert not METRICS["false_escalation"].higher_is_better
    assert not METRICS["latency_ms"].higher_is_better
    assert METRICS["pass"].higher_is_better


def test_each_evaluator_returns_a_bool_a_number_or_none_for_what_does_not_apply() -> None:
    metrics = evaluate_case(CASE, ANSWERED).metrics
    assert metrics["pass"] == 1.0 and metrics["cited_gold"] == 1.0
    assert (metrics["recall_at_1"], metrics["recall_at_3"], metrics["mrr"]) == (0.0, 1.0, 0.5)
    assert metrics["answer_similarity"] == 0.93 and metrics["token_f1"] == 1.0
    assert metrics["correct_escalation"] is None  # the case need not escalate
    assert metrics["false_escalation"] == 0.0
    assert metrics["wrong_verdict"] is None  # the reference says neither yes nor no
    assert (metrics["judge_accuracy"], metrics["judge_grounding"]) == (1.0, None)
    assert (metrics["latency_ms"], metrics["tokens"]) == (12.0, 40.0)
    escalated = evaluate_case(CASE, CaseOutcome(answered=False, issue_type="refunds")).metrics
    assert (escalated["pass"], escalated["false_escalation"], escalated["cited_gold"]) == (
        0.0,
        1.0,
        None,
    )


def test_a_wrong_yes_or_no_says_why() -> None:
    trap = CASE.model_copy(update={"reference_answer": "No. Only 5 cash-outs a day."})
    wrong = ANSWERED.model_copy(update={"answer": "Yes, as many as you like."})
    evaluation = evaluate_case(trap, wrong)
    assert evaluation.metrics["wrong_verdict"] == 1.0
    assert evaluation.reasons["wrong_verdict"] == "the reference opens 'No.'"


def test_an_evaluator_that_crashes_is_recorded_and_the_others_still_run() -> None:
    @dataclass(frozen=True)
    class Broken(Evaluator):
        def evaluate(self, case: BenchmarkCase, outcome: CaseOutcome) -> Value:
            raise ZeroDivisionError("oops")

    evaluation = evaluate_case(CASE, ANSWERED, (Broken("broken", "a bug"), *EVALUATORS[:1]))
    assert evaluation.metrics == {"broken": None, "pass": 1.0}
    assert evaluation.reasons == {"broken": "evaluator failed: ZeroDivisionError: oops"}


def test_a_case_that_crashes_the_pipeline_is_recorded_and_the_run_goes_on(
    make_assistant: Callable[..., Assistant],
) -> None:
    real = make_assistant(FakeChatModel(responder=responder()))

    class Crashing(Assistant):
        def respond(self, turns: Sequence[Turn]) -> Reply:
            if "password" in turns[-1].text:
                raise RuntimeError("boom")
            return real.respond(turns)

    crashing = Crashing(
        model=real.model, embedder=real.embedder, searcher=real.searcher, classifier=real.classifier
    )
    password = CASE.model_copy(update={"id": "p", "question": "When does my password link expire?"})
    results = run_cases(
        [password, CASE], lambda _: crashing, embedder=HashingEmbedder(), progress=False
    )
    crashed, answered = results
    assert crashed.outcome.error == "RuntimeError: boom"
    assert not crashed.passed and crashed.metrics["pass"] == 0.0
    assert crashed.reasons["pass"] == "the pipeline crashed: RuntimeError: boom"
    assert answered.passed and answered.outcome.error is None
