"""The compliance policy as configuration: pattern rules with reason codes, and a judge rubric.

The policy lives in a YAML file (by default ``compliance.yaml`` next to this module)::

    rules:
      - id: legal_advice                  # unique
        reason_code: legal_advice         # several rules may share one
        description: Tells the customer what the law says or what legal action to take.
        kind: regex                       # or keywords
        patterns: ['\\byou should sue\\b']
        case_sensitive: false             # the default
    rubric:
      - id: legal_advice
        reason_code: legal_advice
        text: no legal advice, such as telling the customer to sue or what the law entitles them to

``regex`` patterns are Python regular expressions searched anywhere in the text. ``keywords``
patterns are literal phrases matched on word boundaries, with any run of whitespace matching any
run of whitespace. Both ignore case unless ``case_sensitive`` is true, and both treat curly
apostrophes as straight ones. The rules are a cheap, deterministic screen; the rubric items are
the same policy in words, for the LLM judge's compliance instruction (``rubric_text``).

Every problem with the file (unreadable, not YAML, a missing field, an unknown ``kind``, a regex
that does not compile or matches the empty string, a duplicate rule id) is a
``ConfigurationError`` that names the file and, where there is one, the rule id.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from core import yaml_loader
from core.errors import ConfigurationError

DEFAULT_POLICY_PATH = Path(__file__).with_name("compliance.yaml")

# Same length on both sides, so offsets in the normalised text are offsets in the original.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def _keyword_regex(phrase: str) -> str:
    words = phrase.split()
    if not words:
        raise ValueError("a keyword phrase is empty")
    return r"(?<!\w)" + r"\s+".join(re.escape(word) for word in words) + r"(?!\w)"


class ComplianceRule(BaseModel):
    """One deterministic check: any of ``patterns`` found in an answer is a finding."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    reason_code: str = Field(min_length=1)
    description: str = ""
    kind: Literal["regex", "keywords"]
    patterns: list[str] = Field(min_length=1)
    case_sensitive: bool = False

    _compiled: list[re.Pattern[str]] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _compile(self) -> ComplianceRule:
        flags = 0 if self.case_sensitive else re.IGNORECASE
        compiled: list[re.Pattern[str]] = []
        for pattern in self.patterns:
            try:
                source = _keyword_regex(pattern) if self.kind == "keywords" else pattern
                regex = re.compile(source, flags)
            except (re.error, ValueError) as exc:
                raise ValueError(f"rule {self.id!r}: invalid pattern {pattern!r}: {exc}") from exc
            if regex.search("") is not None:
                raise ValueError(f"rule {self.id!r}: pattern {pattern!r} matches empty text")
            compiled.append(regex)
        self._compiled = compiled
        return self

    def find(self, text: str) -> list[ComplianceFinding]:
        """This rule's findings in ``text``, in order; overlapping matches count once."""
        normalised = text.translate(_APOSTROPHES)
        spans = sorted(
            {(m.start(), m.end()) for regex in self._compiled for m in regex.finditer(normalised)},
            key=lambda span: (span[0], -span[1]),
        )
        findings: list[ComplianceFinding] = []
        for start, end in spans:
            if start == end or (findings and start < findings[-1].end):
                continue
            findings.append(
                ComplianceFinding(
                    rule_id=self.id,
                    reason_code=self.reason_code,
                    match=text[start:end],
                    start=start,
                    end=end,
                )
            )
        return findings


class RubricItem(BaseModel):
    """One sentence of the judge's compliance instruction."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    reason_code: str = Field(min_length=1)
    text: str = Field(min_length=1)


class ComplianceFinding(BaseModel):
    """A rule that fired: ``match`` is ``text[start:end]`` of the checked text."""

    rule_id: str
    reason_code: str
    match: str
    start: int
    end: int


class CompliancePolicy(BaseModel):
    """Rules checked against every answer, and the rubric the judge is given in words."""

    model_config = ConfigDict(extra="forbid")

    rules: list[ComplianceRule] = Field(default_factory=list)
    rubric: list[RubricItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> CompliancePolicy:
        for label, ids in (
            ("rule", [rule.id for rule in self.rules]),
            ("rubric item", [item.id for item in self.rubric]),
        ):
            seen: set[str] = set()
            for item_id in ids:
                if item_id in seen:
                    raise ValueError(f"duplicate {label} id {item_id!r}")
                seen.add(item_id)
        return self

    @property
    def reason_codes(self) -> list[str]:
        """Every reason code the rules and the rubric can give, each once, in file order."""
        codes = [rule.reason_code for rule in self.rules]
        codes += [item.reason_code for item in self.rubric]
        return list(dict.fromkeys(codes))

    def check(self, text: str) -> list[ComplianceFinding]:
        """Every rule's findings in ``text``, ordered by position, then by rule order."""
        findings = [finding for rule in self.rules for finding in rule.find(text)]
        return sorted(findings, key=lambda finding: finding.start)

    def rubric_text(self, *, with_codes: bool = False) -> str:
        """The rubric as a bullet list, one ``- `` line per item, for the judge prompt.

        With ``with_codes`` each line starts with its reason code in brackets, for a judge asked
        to name the code it applied.
        """
        lines = [
            f"- [{item.reason_code}] {item.text}" if with_codes else f"- {item.text}"
            for item in self.rubric
        ]
        return "\n".join(lines)


def _rule_label(raw: Any, loc: tuple[int | str, ...]) -> str:
    """``rule 'legal_advice'`` for an error located under ``rules[i]``, or the raw location."""
    if len(loc) > 1 and loc[0] in ("rules", "rubric") and isinstance(loc[1], int):
        section, index = loc[0], loc[1]
        entries = raw.get(section) if isinstance(raw, dict) else None
        entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
        name = "rule" if section == "rules" else "rubric item"
        if isinstance(entry, dict) and entry.get("id"):
            return f"{name} {entry['id']!r}"
        return f"{name} #{index + 1}"
    return ".".join(str(part) for part in loc) or "policy"


def _describe(raw: Any, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        field = ".".join(str(part) for part in loc[2:])
        where = _rule_label(raw, loc)
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix(f"{where}: ")
        problems.append(f"{where}: {field + ': ' if field else ''}{message}")
    return "; ".join(problems)


def load_policy(path: Path | None = None) -> CompliancePolicy:
    """The policy in ``path``, or the bundled default policy; every regex is compiled here."""
    source = DEFAULT_POLICY_PATH if path is None else path
    try:
        raw = yaml_loader.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"compliance policy {source}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError(
            f"compliance policy {source}: expected a mapping with 'rules' and 'rubric'"
        )
    try:
        return CompliancePolicy.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"compliance policy {source}: {_describe(raw, exc)}") from exc
