"""Route a conversation to the assistant its experiment variants call for."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from assistant.experiments.config import Experiment, Experiments
from assistant.pipeline.assistant import Assistant
from assistant.storage import StoredConversation


class Assignment(BaseModel):
    experiment_id: str
    unit_id: str
    variant: str


class ExperimentRouter:
    def __init__(self, experiments: Experiments, base: Assistant) -> None:
        self.experiments = experiments
        self.base = base
        self._built: dict[tuple[tuple[str, Any], ...], Assistant] = {(): base}

    def route(self, conversation: StoredConversation) -> tuple[Assistant, list[Assignment]]:
        assignments: list[Assignment] = []
        overrides: dict[str, Any] = {}
        for experiment in self.experiments.active:
            unit = _unit(experiment, conversation)
            variant = experiment.variant_for(unit)
            assignments.append(
                Assignment(experiment_id=experiment.id, unit_id=unit, variant=variant)
            )
            overrides.update(experiment.variants[variant].settings)
        key = tuple(sorted(overrides.items(), key=lambda kv: kv[0]))
        if key not in self._built:
            self._built[key] = self.base.with_config(overrides)
        return self._built[key], assignments


def _unit(experiment: Experiment, conversation: StoredConversation) -> str:
    if experiment.unit == "customer" and conversation.customer_ref:
        return f"customer:{conversation.customer_ref}"
    return f"conversation:{conversation.id}"
