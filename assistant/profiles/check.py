"""Does a business profile hold together? Every file it points at loads, and they agree.

:func:`check_profile` never raises for a broken profile: it returns every problem it found,
each naming its file, so ``tether check DIR`` can list them all at once. Errors stop Tether from
starting or answering; warnings (``warning=True``) are worth reading but do not.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ValidationError

from assistant.escalations.priority import load_priority_rules
from assistant.pipeline.classify import Taxonomy, load_taxonomy
from core.cases import load_cases
from core.errors import ConfigurationError
from core.profile import PROFILE_FILE, Profile, describe, validate_profile
from core.prompts import PromptFields, load_prompt
from guardrails.compliance import load_policy
from guardrails.language import CHECKED_LANGUAGES
from guardrails.verdict import ReasonCode
from knowledge_base.articles import Article, load_articles

# The values each prompt id is rendered with, by the code that asks it (the answer stage,
# condense, guardrails/judge.py, assistant/monitoring/quality.py, evals/bench/scoring.py), and
# whether the business's fields ({business}, {customers}, {tone}) are filled in too.
PROMPT_INPUTS: dict[str, frozenset[str]] = {
    "answer": frozenset({"passages", "conversation", "question"}),
    "condense": frozenset({"conversation"}),
    "grounding": frozenset({"passages", "conversation", "answer", "rubric", "question"}),
    "judge": frozenset({"passages", "conversation", "answer", "rubric", "question"}),
    "monitor": frozenset({"passages", "conversation", "answer"}),
    "score": frozenset({"passages", "question", "reference", "answer"}),
}
BUSINESS_PROMPTS = frozenset({"answer", "condense", "grounding", "judge"})
# The issue type of an article that names none (knowledge_base/articles.py).
UNTYPED = "general"
SHOWN = 5  # problems of one kind listed before "and N more"


class Problem(BaseModel):
    file: Path
    message: str
    warning: bool = False

    def line(self) -> str:
        return f"{'warning' if self.warning else 'error'}: {self.file}: {self.message}"


class CheckReport(BaseModel):
    directory: Path
    profile: Profile | None = None
    problems: list[Problem] = []
    articles: int = 0
    issue_types: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def ok(self) -> bool:
        return not self.errors


def _some(items: list[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def check_profile(directory: Path) -> CheckReport:
    """Every problem of the profile in ``directory`` (none: it is ready to use)."""
    report = CheckReport(directory=directory)
    try:
        profile = validate_profile(directory)
    except ConfigurationError as exc:
        path = directory / PROFILE_FILE
        return _with(report, Problem(file=path, message=str(exc).removeprefix(f"{path}: ")))
    except ValidationError as exc:
        problems = [
            Problem(file=directory / PROFILE_FILE, message=part)
            for part in describe(exc).split("; ")
        ]
        return _with(report, *problems)
    report.profile = profile
    taxonomy = _taxonomy(profile, report)
    articles = _articles(profile, taxonomy, report)
    _priorities(profile, taxonomy, report)
    _policy(profile, report)
    _prompts(profile, report)
    _questions(profile, articles, report)
    if not set(profile.languages) & CHECKED_LANGUAGES:
        report.problems.append(
            Problem(
                file=directory / PROFILE_FILE,
                message=f"no served language can be checked ({', '.join(CHECKED_LANGUAGES)}): "
                "every message will be handed to a person",
                warning=True,
            )
        )
    return report


def _with(report: CheckReport, *problems: Problem) -> CheckReport:
    report.problems.extend(problems)
    return report


def _taxonomy(profile: Profile, report: CheckReport) -> Taxonomy | None:
    try:
        taxonomy = load_taxonomy(profile.taxonomy)
    except ConfigurationError as exc:
        report.problems.append(Problem(file=profile.taxonomy, message=str(exc)))
        return None
    names = taxonomy.names
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        report.problems.append(
            Problem(file=profile.taxonomy, message=f"issue types named twice: {_some(twice)}")
        )
    report.issue_types = len(set(names))
    return taxonomy


def _articles(profile: Profile, taxonomy: Taxonomy | None, report: CheckReport) -> list[Article]:
    path = profile.knowledge_base
    try:
        articles = load_articles(path)
    except (ConfigurationError, OSError, UnicodeDecodeError) as exc:
        report.problems.append(Problem(file=path, message=f"knowledge base: {exc}"))
        return []
    report.articles = len(articles)
    if not articles:
        report.problems.append(
            Problem(file=path, message="knowledge base has no articles (*.md or *.jsonl)")
        )
    if taxonomy is not None:
        known = set(taxonomy.names) | {UNTYPED}
        stray = [f"{a.id} ({a.issue_type})" for a in articles if a.issue_type not in known]
        if stray:
            report.problems.append(
                Problem(
                    file=path,
                    message=f"articles with an issue type the taxonomy lacks: {_some(stray)}",
                )
            )
    return articles


def _priorities(profile: Profile, taxonomy: Taxonomy | None, report: CheckReport) -> None:
    try:
        rules = load_priority_rules(profile.priorities)
    except ConfigurationError as exc:
        report.problems.append(Problem(file=profile.priorities, message=str(exc)))
        return
    codes = {code.value for code in ReasonCode}
    for rule in rules.rules:
        unknown = sorted(set(rule.reasons) - codes)
        if unknown:
            report.problems.append(
                Problem(
                    file=profile.priorities,
                    message=f"rule {rule.name!r}: unknown reason codes {unknown}",
                )
            )
        if taxonomy is not None:
            missing = sorted(set(rule.issue_types) - set(taxonomy.names))
            if missing:
                report.problems.append(
                    Problem(
                        file=profile.priorities,
                        message=f"rule {rule.name!r}: issue types not in the taxonomy {missing}",
                    )
                )


def _policy(profile: Profile, report: CheckReport) -> None:
    try:
        load_policy(profile.compliance_policy)
    except ConfigurationError as exc:
        report.problems.append(Problem(file=profile.compliance_policy, message=str(exc)))


def _prompt_files(folder: Path) -> Iterable[Path]:
    return sorted(folder.glob("*/v*.yaml")) if folder.is_dir() else []


def _prompts(profile: Profile, report: CheckReport) -> None:
    folder = profile.prompts
    if folder is None:
        return
    if not folder.is_dir():
        report.problems.append(Problem(file=folder, message="prompts folder does not exist"))
        return
    business = frozenset(PromptFields.model_fields)
    for path in _prompt_files(folder):
        name, version = path.parent.name, path.stem.removeprefix("v")
        inputs = PROMPT_INPUTS.get(name)
        if inputs is None:
            known = ", ".join(sorted(PROMPT_INPUTS))
            message = f"no stage asks a prompt {name!r} (prompt ids: {known})"
            report.problems.append(Problem(file=path, message=message))
            continue
        try:
            prompt = load_prompt(f"{name}@{version}", folder)
            fields = prompt.fields
        except (ConfigurationError, ValueError) as exc:
            report.problems.append(Problem(file=path, message=str(exc)))
            continue
        allowed = inputs | business if name in BUSINESS_PROMPTS else inputs
        unknown = sorted(fields - allowed)
        if unknown:
            placeholders = ", ".join("{" + u + "}" for u in unknown)
            report.problems.append(
                Problem(
                    file=path,
                    message=f"prompt {prompt.ref} uses unknown placeholder(s) {placeholders}; "
                    f"it may use {', '.join('{' + a + '}' for a in sorted(allowed))}",
                )
            )


def _questions(profile: Profile, articles: list[Article], report: CheckReport) -> None:
    path = profile.questions
    if path is None:
        return
    try:
        cases = load_cases(path)
    except ConfigurationError as exc:
        report.problems.append(Problem(file=path, message=str(exc)))
        return
    if not articles:
        return
    ids = {a.id for a in articles}
    unknown = sorted({g for c in cases for g in c.gold_article_ids if g not in ids})
    if unknown:
        report.problems.append(
            Problem(file=path, message=f"gold articles not in the knowledge base: {_some(unknown)}")
        )
