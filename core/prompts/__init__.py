"""Versioned prompt files ``core/prompts/<id>/v<version>.yaml``, named ``<id>@<version>``.

A prompt change is a data change: a new file with a new version, which the benchmark suite can run
against the last accepted one.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Formatter

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core import yaml_loader
from core.errors import ConfigurationError
from core.llm.base import ChatMessage

PROMPTS_DIR = Path(__file__).resolve().parent
# How an extractive prompt heads each passage's numbered sentences unless it says otherwise.
ARTICLE_HEADING = "[{article_id}] {heading}"


class PromptFields(BaseModel):
    """What a business profile fills into prompts: ``{business}``, ``{customers}``, ``{tone}``."""

    model_config = ConfigDict(frozen=True)

    business: str
    customers: str
    tone: str = ""


class Prompt(BaseModel):
    id: str
    version: int
    description: str = ""
    system: str
    user: str
    max_tokens: int = 512
    json_mode: bool = False
    # An extractive answer prompt: the passages are shown as numbered sentences, the model names
    # the numbers of those that answer the question, and the answer is those sentences, verbatim
    # (assistant/pipeline/answer.py).
    extractive: bool = False
    # The word a reply starts with when the model declines ("none"), for a prompt whose reply's
    # first word is the model's choice: the pipeline reads the model's probability of it.
    decline_option: str | None = None
    # How an extractive prompt heads each passage (``{article_id}``, ``{heading}``: "Title >
    # Section"); the answer's citations come from the sentences picked, not from the model.
    passage_heading: str = ARTICLE_HEADING
    # The business profile's fields, filled in at every rendering (:meth:`bind`).
    bound: PromptFields | None = Field(default=None, exclude=True)

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def fields(self) -> set[str]:
        names = set()
        for template in (self.system, self.user):
            names |= {name for _, name, _, _ in Formatter().parse(template) if name}
        return names

    def bind(self, fields: PromptFields) -> Prompt:
        """This prompt with a business's fields, filled in whenever it is rendered."""
        return self.model_copy(update={"bound": fields})

    def render(self, **values: str) -> list[ChatMessage]:
        if self.bound is not None:
            values = {**self.bound.model_dump(), **values}
        missing = self.fields - values.keys()
        if missing:
            raise ConfigurationError(f"prompt {self.ref} needs {sorted(missing)}")
        return [
            ChatMessage(role="system", content=self.system.format(**values).strip()),
            ChatMessage(role="user", content=self.user.format(**values).strip()),
        ]


def parse_ref(ref: str) -> tuple[str, int]:
    name, sep, version = ref.partition("@")
    if not name or not sep or not version.isdigit():
        raise ConfigurationError(f"prompt reference {ref!r} must look like 'answer@1'")
    return name, int(version)


@cache
def load_prompt(ref: str, root: Path = PROMPTS_DIR) -> Prompt:
    name, version = parse_ref(ref)
    path = root / name / f"v{version}.yaml"
    if not path.is_file():
        raise ConfigurationError(f"prompt {ref} not found at {path}")
    try:
        prompt = Prompt.model_validate(yaml_loader.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"prompt file {path} is invalid: {exc}") from exc
    if (prompt.id, prompt.version) != (name, version):
        raise ConfigurationError(f"{path} declares {prompt.ref}, expected {ref}")
    return prompt


def resolve_prompt(ref: str | Prompt, extra_dir: Path | None = None) -> Prompt:
    """A prompt object, a reference looked up in ``extra_dir`` first (a team's own prompt
    versions, ``TETHER_PROMPTS_DIR``), then among the bundled ones."""
    if isinstance(ref, Prompt):
        return ref
    if extra_dir is not None:
        name, version = parse_ref(ref)
        if (extra_dir / name / f"v{version}.yaml").is_file():
            return load_prompt(ref, extra_dir)
    return load_prompt(ref)
