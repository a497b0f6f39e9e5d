"""Relevance: an answer can be supported by a passage and still answer another question.

Asked "How can I open email?", a small model answered with the steps to *remove* an email
account: every sentence is in the manual, so tier 1 passes it. Two signals catch that:

* coverage: the share of the question's content words (guardrails/lexical.py) that the answer
  and the evidence it was checked against use. An answer about something else shares few.
* action: when the question asks how to do something (open, remove, turn on, connect...), the
  answer or its evidence must name that action or a synonym of it; naming only an action of
  another kind ("remove" for "open") is a conflict.

Both are computed from text alone, in microseconds; their thresholds are tuned on the emanual
dev split (``python -m evals.relevance``) and reported on its test split.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from guardrails.lexical import content_words, vocabulary

# Actions a customer asks how to do, each with the words that name it. The groups are kinds of
# action: an answer about another group does not answer the question.
ACTIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"open", "launch", "start", "access", "view", "go", "display", "show"}),
    "close": frozenset({"close", "exit", "quit", "stop", "end"}),
    "add": frozenset({"add", "create", "register", "install", "download", "new", "insert"}),
    "remove": frozenset({"remove", "delete", "uninstall", "erase", "clear", "deregister"}),
    "change": frozenset(
        {"change", "adjust", "set", "modify", "edit", "update", "switch", "select", "configure"}
    ),
    "on": frozenset({"turn on", "enable", "activate", "switch on", "power on"}),
    "off": frozenset({"turn off", "disable", "deactivate", "switch off", "power off", "mute"}),
    "connect": frozenset({"connect", "pair", "link", "plug", "sync"}),
    "disconnect": frozenset({"disconnect", "unpair", "unlink", "unplug"}),
    "reset": frozenset({"reset", "restore", "restart", "reboot"}),
    "record": frozenset({"record", "save", "capture", "screenshot"}),
    "send": frozenset({"send", "share", "transfer", "cast", "mirror"}),
}
# Kinds of action that are each other's opposite: naming one where the question asks for the
# other is the clearest sign the answer is about something else.
OPPOSITES: frozenset[frozenset[str]] = frozenset(
    {
        frozenset({"open", "close"}),
        frozenset({"add", "remove"}),
        frozenset({"on", "off"}),
        frozenset({"connect", "disconnect"}),
    }
)
_ASKS_HOW = re.compile(
    r"\b(?:how\s+(?:do|can|should|would|to)\b|how\s+(?:i|we)\b|can\s+(?:i|we|you)\b|"
    r"is\s+(?:it|there)\s+(?:possible|a\s+way)\b|i\s+(?:want|need|would\s+like)\s+to\b|"
    r"(?:what|which)\s+(?:are\s+the\s+)?steps?\b)",
    re.IGNORECASE,
)


class Relevance(BaseModel):
    """How well an answer (with its evidence) matches the question it was asked."""

    coverage: float
    missing: list[str]
    # The kind of action the question asks for, and whether the answer names only another kind.
    asked_action: str | None = None
    action_conflict: bool = False


def _kinds(text: str) -> set[str]:
    lowered = f" {' '.join(re.findall(r'[a-z]+', text.lower()))} "
    return {
        kind
        for kind, words in ACTIONS.items()
        if any(f" {word} " in lowered or f" {word}s " in lowered for word in words)
    }


def asked_action(question: str) -> str | None:
    """The kind of action a how-to question asks for, when it names exactly one."""
    if not _ASKS_HOW.search(question):
        return None
    kinds = _kinds(question)
    return next(iter(kinds)) if len(kinds) == 1 else None


def relevance(question: str, answer: str, evidence: Sequence[str]) -> Relevance:
    """The answer's relevance to ``question``: what share of the question's content words the
    answer and ``evidence`` (the passage windows it was checked against) use, and whether it
    names the action asked for."""
    words = list(dict.fromkeys(content_words(question)))
    known = vocabulary([answer, *evidence])
    missing = [w for w in words if w not in known]
    action = asked_action(question)
    named = _kinds(" ".join([answer, *evidence]))
    conflict = action is not None and action not in named and _opposed(action, named)
    return Relevance(
        coverage=1.0 if not words else 1 - len(missing) / len(words),
        missing=missing,
        asked_action=action,
        action_conflict=conflict,
    )


def _opposed(action: str, named: Iterable[str]) -> bool:
    return any(frozenset({action, other}) in OPPOSITES for other in named)
