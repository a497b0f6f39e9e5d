from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.chat import ChatService
from assistant.desk import AgentDesk
from assistant.experiments.config import load_experiments
from assistant.experiments.router import ExperimentRouter
from assistant.pipeline.assistant import Assistant
from assistant.pipeline.trace import ReplyTrace
from assistant.storage import Database, StoredMessage
from core.errors import ConfigurationError
from core.llm.fake import FakeChatModel
from tests.conftest import answer_json

Build = Callable[..., Assistant]

CONFIG = """
experiments:
  - id: threshold-test
    variants:
      control: {weight: 50}
      strict: {weight: 50, settings: {min_retrieval_score: 1.5}}
  - id: old
    active: false
    variants:
      a: {weight: 1}
      b: {weight: 1, settings: {scope_threshold: 0.5}}
"""


def _trace(message: StoredMessage) -> ReplyTrace:
    trace = message.trace
    assert trace is not None
    return trace


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "experiments.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("experiments: [{id: x, variants: {a: {weight: 1}}}]", "at least two variants"),
        (
            "experiments: [{id: x, variants: {a: {weight: 1}, "
            "b: {weight: 1, settings: {colour: 1}}}}]",
            "not message-path settings",
        ),
        (
            "experiments: [{id: x, variants: {a: {weight: 1}, b: {weight: 1, settings: "
            "{scope_threshold: 0.7}}}}, {id: y, variants: {c: {weight: 1}, d: {weight: 1, "
            "settings: {scope_threshold: 0.5}}}}]",
            "both change scope_threshold",
        ),
        ("experiments: [{id: x, variants: {a: {weight: 0}, b: {weight: 0}}}]", "all weights"),
    ],
)
def test_bad_experiment_files_are_clear_errors(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigurationError, match=needle):
        load_experiments(write(tmp_path, text))


def test_each_conversation_gets_its_variants_settings_and_is_logged(
    tmp_path: Path, make_assistant: Build, database: Database, desk: AgentDesk
) -> None:
    experiments = load_experiments(write(tmp_path, CONFIG))
    assert [e.id for e in experiments.active] == ["threshold-test"]
    model = FakeChatModel(
        responder=lambda _: answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"])
    )
    base = make_assistant(model)
    service = ChatService(
        database=database,
        desk=desk,
        assistant=base,
        router=ExperimentRouter(experiments, base),
    )
    seen: dict[str, list[bool]] = {"control": [], "strict": []}
    for _ in range(40):
        convo = database.conversations.create()
        outcome = service.post_message(convo.id, "How much does an Instant Pay cash-out cost?")
        variant = _trace(database.conversations.get(convo.id).messages[-1]).experiments[
            "threshold-test"
        ]
        seen[variant].append(outcome.reply.answered)
        # a second message in the same conversation stays in the same variant
        service.post_message(convo.id, "And how many times a day?")
    # the strict variant finds no passage similar enough (1.5 > any cosine): it never answers
    assert seen["control"]
    assert seen["strict"]
    assert all(seen["control"])
    assert not any(seen["strict"])
    exposures = database.experiments.exposures("threshold-test")
    assert exposures == {"control": len(seen["control"]), "strict": len(seen["strict"])}
    outcomes = database.experiments.outcomes("threshold-test")
    assert len(outcomes) == 80
    by_unit: dict[str, set[str]] = {}
    for o in outcomes:
        by_unit.setdefault(o.unit_id, set()).add(o.variant)
    assert all(len(variants) == 1 for variants in by_unit.values())
