"""A business profile: who the help desk is for, and the files it answers from.

A profile is a directory with a ``profile.yaml`` next to its files; paths in it are relative to
that directory. The bundled sample (``knowledge_base/sample``) is one. ::

    name: Hoppa                                  # {business} in the prompts
    customers: customers and couriers            # {customers}
    tone: friendly, plain and brief              # {tone} (for a team's own prompt versions)
    languages: [en]                              # served; the first is the default
    knowledge_base: articles                     # a folder of markdown, or a JSONL file
    taxonomy: taxonomy.yaml
    priorities: priorities.yaml
    compliance_policy: compliance.yaml
    prompts: prompts                             # optional: the team's own prompt versions
    questions: questions.jsonl                   # optional: its golden set for the benchmark
    condition_scopes: [pro couriers]             # optional: phrases naming some customers
    messages:                                    # per language; every served one needs them
      en:
        handoff: A person will follow up here shortly.
        decline: Sorry, I can only help with questions about ...
        busy: "{in_flight} messages are being answered; try again shortly"

Only this file's own shape is checked here (:func:`load_profile`); whether the files it points
at load and agree with each other is ``assistant/profiles/check.py`` (``tether check DIR``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Formatter
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core import yaml_loader
from core.errors import ConfigurationError
from core.languages import BUILTIN_HANDOFF, Language
from core.prompts import PromptFields

PROFILE_FILE = "profile.yaml"
SAMPLE_PROFILE_DIR = Path(__file__).resolve().parent.parent / "knowledge_base" / "sample"
# What a busy message may say: the messages ahead of the customer's, and the seconds to wait.
BUSY_FIELDS = frozenset({"in_flight", "retry_after"})


def placeholders(template: str) -> set[str]:
    """The ``{names}`` of a format string (``ValueError`` for a malformed one)."""
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


class Messages(BaseModel):
    """What the customer reads, in one language, when the assistant does not answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # A person takes over (a withheld answer, a failure, a language the check cannot read).
    handoff: str = Field(min_length=1)
    # The message is outside the business (when the settings say decline, not escalate).
    decline: str = Field(min_length=1)
    # Every place for a message is taken (503); may use {in_flight} and {retry_after}.
    busy: str = Field(min_length=1)

    @model_validator(mode="after")
    def _busy_fields(self) -> Self:
        try:
            unknown = placeholders(self.busy) - BUSY_FIELDS
        except ValueError as exc:
            raise ValueError(f"busy message is not a valid template: {exc}") from exc
        if unknown:
            raise ValueError(
                f"busy message uses unknown placeholder(s) {sorted(unknown)}; "
                f"it may use {sorted(BUSY_FIELDS)}"
            )
        return self

    def busy_text(self, *, in_flight: int, retry_after: int) -> str:
        return self.busy.format(in_flight=in_flight, retry_after=retry_after)


class Profile(BaseModel):
    """A business, as ``profile.yaml`` describes it, with its paths made absolute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    customers: str = Field(min_length=1)
    tone: str = ""
    languages: list[Language] = Field(min_length=1)
    messages: dict[Language, Messages]
    knowledge_base: Path
    taxonomy: Path
    priorities: Path
    compliance_policy: Path
    prompts: Path | None = None
    questions: Path | None = None
    # Phrases naming some of its customers ("pro couriers"): a condition of an article that
    # names one applies only to a customer who does too (guardrails/conditions.py).
    condition_scopes: list[str] = Field(default_factory=list)
    # The relevance check's threshold for this knowledge base (guardrails/relevance.py: the
    # least share of the question's content words an answer and its evidence must use), tuned
    # on its own questions; None: the guardrail calibration's (off unless it sets one). Its
    # articles' wording decides it: a manual's answers repeat the question's words, a policy
    # answer to "can I still report it 10 days later?" uses few of them.
    relevance_coverage: float | None = Field(default=None, ge=0.0, le=1.0)
    # The hand-over of an extractive answer for this knowledge base (assistant/pipeline/
    # settings.py, ``handover``): the bundled confidence model was fitted on the sample's dev
    # questions, and its signals need not mean the same on another knowledge base; None: the
    # settings' default (``confidence``).
    handover: Literal["decline_probability", "confidence"] | None = None
    # Where profile.yaml is (set by load_profile; paths above are resolved against it).
    root: Path = Path()

    @model_validator(mode="after")
    def _messages_for_every_language(self) -> Self:
        missing = [lang.value for lang in self.languages if lang not in self.messages]
        if missing:
            raise ValueError(
                f"languages {missing} are served but have no messages (add messages.{missing[0]})"
            )
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("languages lists a language twice")
        return self

    @property
    def default_language(self) -> Language:
        return self.languages[0]

    def prompt_fields(self) -> PromptFields:
        return PromptFields(business=self.name, customers=self.customers, tone=self.tone)

    def messages_for(self, language: Language | None) -> Messages:
        """The messages in ``language``: the profile's own; for a language it has none for, its
        default language's, with a built-in hand-off in ``language`` when there is one."""
        if language is not None and language in self.messages:
            return self.messages[language]
        default = self.messages[self.default_language]
        builtin = BUILTIN_HANDOFF.get(language) if language is not None else None
        return default if builtin is None else default.model_copy(update={"handoff": builtin})


def _resolved(data: dict[str, object], root: Path) -> dict[str, object]:
    paths = ("knowledge_base", "taxonomy", "priorities", "compliance_policy", "prompts")
    resolved = dict(data)
    for key in (*paths, "questions"):
        value = data.get(key)
        if isinstance(value, str) and value:
            resolved[key] = (root / value).resolve()
    return resolved


def read_profile(directory: Path) -> dict[str, object]:
    """``profile.yaml`` as a mapping; ConfigurationError when it is missing or not YAML."""
    path = directory / PROFILE_FILE
    try:
        data = yaml_loader.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the profile ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: expected a mapping of profile fields")
    return data


def validate_profile(directory: Path) -> Profile:
    """The profile in ``directory``; ValidationError lists every field that is wrong."""
    root = directory.resolve()
    return Profile.model_validate({**_resolved(read_profile(directory), root), "root": root})


def load_profile(directory: Path) -> Profile:
    """The profile in ``directory``; one ConfigurationError naming every wrong field."""
    try:
        return validate_profile(directory)
    except ValidationError as exc:
        raise ConfigurationError(f"{directory / PROFILE_FILE}: {describe(exc)}") from exc


def describe(exc: ValidationError) -> str:
    """A profile's validation errors, one ``field: message`` each, joined by '; '."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'profile'}: {error['msg']}"
        for error in exc.errors()
    )


@cache
def sample_profile() -> Profile:
    """The bundled sample's profile (Hoppa), loaded once: what the message path uses when it is
    given no profile (tests, evaluations on the golden set)."""
    return load_profile(SAMPLE_PROFILE_DIR)
