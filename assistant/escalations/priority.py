"""Priority of an escalation from rules in configuration, with a service-level target for each.

Rules are tried in order and the first match wins; the queue then serves by priority and, within
a priority, oldest first. The rules live in a YAML file (``Settings.priority_rules_path``)::

    priorities:            # most urgent first; the order gives the rank
      P1: {sla_minutes: 15}
      P2: {sla_minutes: 60}
    default: P2
    rules:
      - {name: safety, priority: P1, issue_types: [safety_incidents]}
      - {name: system_failure, priority: P2, reasons: [llm_error, internal_error]}
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from core import yaml_loader
from core.errors import ConfigurationError


class PriorityLevel(BaseModel):
    name: str
    rank: int
    sla_minutes: float = Field(gt=0)

    def due(self, created_at: datetime) -> datetime:
        return created_at + timedelta(minutes=self.sla_minutes)


class PriorityRule(BaseModel):
    name: str
    priority: str
    issue_types: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)

    def matches(self, issue_type: str, reasons: list[str]) -> bool:
        type_ok = not self.issue_types or issue_type in self.issue_types
        reason_ok = not self.reasons or any(r in self.reasons for r in reasons)
        return type_ok and reason_ok


class PriorityAssignment(BaseModel):
    level: PriorityLevel
    rule: str


class _LevelSpec(BaseModel):
    sla_minutes: float = Field(gt=0)


class PriorityRules(BaseModel):
    priorities: dict[str, _LevelSpec]
    default: str
    rules: list[PriorityRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_levels(self) -> PriorityRules:
        if not self.priorities:
            raise ValueError("at least one priority level is needed")
        for name in [self.default, *(r.priority for r in self.rules)]:
            if name not in self.priorities:
                raise ValueError(f"priority {name!r} is not among {list(self.priorities)}")
        for rule in self.rules:
            if not rule.issue_types and not rule.reasons:
                raise ValueError(
                    f"rule {rule.name!r} matches everything: give issue_types or reasons"
                )
        return self

    def level(self, name: str) -> PriorityLevel:
        for rank, (level_name, spec) in enumerate(self.priorities.items(), start=1):
            if level_name == name:
                return PriorityLevel(name=name, rank=rank, sla_minutes=spec.sla_minutes)
        raise KeyError(name)

    @property
    def levels(self) -> list[PriorityLevel]:
        return [self.level(name) for name in self.priorities]

    def assign(self, *, issue_type: str, reasons: list[str]) -> PriorityAssignment:
        for rule in self.rules:
            if rule.matches(issue_type, reasons):
                return PriorityAssignment(level=self.level(rule.priority), rule=rule.name)
        return PriorityAssignment(level=self.level(self.default), rule="default")


def load_priority_rules(path: Path) -> PriorityRules:
    try:
        raw = yaml_loader.safe_load(path.read_text(encoding="utf-8"))
        return PriorityRules.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"priority rules {path}: {exc}") from exc
