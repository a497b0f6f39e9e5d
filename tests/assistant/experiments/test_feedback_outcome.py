"""Customer feedback as an experiment outcome: the outcome of a message knows its reply, and the
reply's rating reaches the analysis per variant."""

from collections.abc import Callable
from pathlib import Path

from assistant.chat import ChatService
from assistant.desk import AgentDesk
from assistant.experiments.config import load_experiments
from assistant.experiments.router import ExperimentRouter
from assistant.feedback import FeedbackService
from assistant.pipeline.assistant import Assistant
from assistant.storage import Database
from core.llm.fake import FakeChatModel
from evals.experiments import analyze
from tests.conftest import answer_json

Build = Callable[..., Assistant]

CONFIG = """
experiments:
  - id: prompt-test
    variants:
      control: {weight: 50}
      treatment: {weight: 50, settings: {answer_prompt: answer@1}}
"""


def test_ratings_of_replies_are_outcomes_of_their_variant(
    tmp_path: Path, make_assistant: Build, database: Database, desk: AgentDesk
) -> None:
    path = tmp_path / "experiments.yaml"
    path.write_text(CONFIG)
    experiments = load_experiments(path)
    model = FakeChatModel(
        responder=lambda _: answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"])
    )
    base = make_assistant(model)
    chat = ChatService(
        database=database, desk=desk, assistant=base, router=ExperimentRouter(experiments, base)
    )
    feedback = FeedbackService(database, desk.rules)
    variants = {}
    for n in range(24):
        convo = database.conversations.create()
        outcome = chat.post_message(convo.id, "How much does an Instant Pay cash-out cost?")
        trace = outcome.reply_message.trace
        assert trace is not None
        variant = trace.experiments["prompt-test"]
        variants[outcome.reply_message.id] = variant
        if n:  # every reply but the first is rated: up in control, down in treatment
            feedback.give(
                database.conversations.get(convo.id),
                outcome.reply_message.id,
                rating="up" if variant == "control" else "down",
            )
    outcomes = database.experiments.outcomes("prompt-test")
    assert {o.reply_message_id for o in outcomes} == set(variants)
    for o in outcomes:
        assert o.reply_message_id is not None
        assert o.rating in (None, "up" if variants[o.reply_message_id] == "control" else "down")
    result = analyze(
        experiments.get("prompt-test"),
        database.experiments.exposures("prompt-test"),
        outcomes,
    )
    by_variant = {v.variant: v for v in result.variants}
    assert by_variant["control"].thumbs_up_rate == 1.0
    assert by_variant["treatment"].thumbs_up_rate == 0.0
    assert sum(v.rated for v in result.variants) == 23
