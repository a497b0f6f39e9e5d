"""Experiments from configuration (``Settings.experiments_path``, YAML)::

    experiments:
      - id: answer-v1-vs-v2
        unit: conversation          # or customer (the conversation's customer_ref)
        active: true
        variants:
          control:   {weight: 50}                                 # the running settings
          treatment: {weight: 50, settings: {answer_prompt: answer@1}}

A variant's ``settings`` override message-path settings (prompts, thresholds, retrieval). Two
active experiments may not change the same setting, so their effects stay separable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from assistant.experiments.assignment import assign
from assistant.pipeline.settings import PipelineSettings
from core import yaml_loader
from core.errors import ConfigurationError

_OVERRIDABLE = set(PipelineSettings.model_fields)


class Variant(BaseModel):
    weight: float = Field(ge=0)
    settings: dict[str, Any] = Field(default_factory=dict)


class Experiment(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    unit: Literal["conversation", "customer"] = "conversation"
    active: bool = True
    variants: dict[str, Variant]

    @model_validator(mode="after")
    def _valid(self) -> Experiment:
        if len(self.variants) < 2:
            raise ValueError(f"experiment {self.id} needs at least two variants")
        if sum(v.weight for v in self.variants.values()) <= 0:
            raise ValueError(f"experiment {self.id}: all weights are zero")
        for name, variant in self.variants.items():
            unknown = set(variant.settings) - _OVERRIDABLE
            if unknown:
                raise ValueError(
                    f"experiment {self.id}, variant {name}: {sorted(unknown)} are not "
                    f"message-path settings ({sorted(_OVERRIDABLE)})"
                )
        return self

    @property
    def weights(self) -> dict[str, float]:
        return {name: v.weight for name, v in self.variants.items()}

    @property
    def shares(self) -> dict[str, float]:
        total = sum(self.weights.values())
        return {name: w / total for name, w in self.weights.items()}

    @property
    def touched(self) -> set[str]:
        return {key for v in self.variants.values() for key in v.settings}

    def variant_for(self, unit_id: str) -> str:
        return assign(self.id, unit_id, self.weights)


class Experiments(BaseModel):
    experiments: list[Experiment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _separable(self) -> Experiments:
        seen: dict[str, str] = {}
        ids = [e.id for e in self.experiments]
        if len(ids) != len(set(ids)):
            raise ValueError("experiment ids must be unique")
        for experiment in self.active:
            for key in experiment.touched:
                if key in seen:
                    raise ValueError(
                        f"experiments {seen[key]} and {experiment.id} both change {key}"
                    )
                seen[key] = experiment.id
        return self

    @property
    def active(self) -> list[Experiment]:
        return [e for e in self.experiments if e.active]

    def get(self, experiment_id: str) -> Experiment:
        for experiment in self.experiments:
            if experiment.id == experiment_id:
                return experiment
        raise ConfigurationError(f"no experiment {experiment_id!r} in the configuration")


def load_experiments(path: Path | None) -> Experiments:
    if path is None:
        return Experiments()
    try:
        raw = yaml_loader.safe_load(path.read_text(encoding="utf-8")) or {}
        return Experiments.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"experiments {path}: {exc}") from exc
