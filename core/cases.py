"""The benchmark case format: one JSON object per line (``.jsonl``) or a YAML list.

The same shape as the sample questions and ``../shared/data/emanual``: a case is a question or a
conversation, with what a good outcome looks like. Escalations that agents resolve can be written
as cases (``source: escalation``), so every past failure is rerun by the benchmark from then on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core import yaml_loader
from core.errors import ConfigurationError

# answer: the assistant should answer, and match the reference; escalate: it must hand over;
# not_escalate: any grounded answer will do, but handing over is a failure.
Expectation = Literal["answer", "escalate", "not_escalate"]


class CaseTurn(BaseModel):
    role: Literal["customer", "user", "assistant", "agent"]
    text: str = Field(min_length=1)


class BenchmarkCase(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=64)
    question: str | None = None
    conversation: list[CaseTurn] | None = None
    issue_type: str | None = None
    gold_article_ids: list[str] = Field(default_factory=list)
    reference_answer: str = ""
    expect: Expectation = "answer"
    tags: list[str] = Field(default_factory=list)
    source: str = ""

    @model_validator(mode="after")
    def _has_query(self) -> BenchmarkCase:
        if self.question is None and not self.conversation:
            raise ValueError("a case needs `question` or `conversation`")
        return self

    @property
    def turns(self) -> list[CaseTurn]:
        if self.question is not None:
            return [CaseTurn(role="customer", text=self.question)]
        return list(self.conversation or [])


def load_cases(path: Path) -> list[BenchmarkCase]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read cases {path}: {exc}") from exc
    items: list[tuple[int, object]]
    if path.suffix in (".yaml", ".yml"):
        try:
            raw = yaml_loader.safe_load(text) or []
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path}: not YAML ({exc})") from exc
        items = list(enumerate(raw if isinstance(raw, list) else [raw], start=1))
    else:
        items = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    cases = []
    for where, item in items:
        try:
            data = json.loads(item) if isinstance(item, str) else item
            cases.append(BenchmarkCase.model_validate(data))
        except (ValidationError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"{path}:{where}: not a benchmark case ({exc})") from exc
    ids = [c.id for c in cases]
    if len(ids) != len(set(ids)):
        raise ConfigurationError(f"{path}: duplicate case ids")
    return cases


def write_cases(cases: Iterable[BenchmarkCase], path: Path) -> int:
    lines = [c.model_dump_json(exclude_defaults=True) for c in cases]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def case_id_for(escalation_id: str) -> str:
    return "esc-" + re.sub(r"[^a-zA-Z0-9]", "", escalation_id)[:16]
