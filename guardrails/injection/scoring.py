"""Matching the rules over a message's views and payloads, and turning the matches into a score.

``explain`` gives each family's contribution; ``verdict_from`` sums them and compares the sum with
the threshold; ``detect_injection`` does both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from guardrails.injection.decoders import payload_views
from guardrails.injection.families import (
    DECODE_REQUEST_WEIGHT,
    DEFAULT_THRESHOLD,
    DELIMITER,
    ENCODED,
    ENCODED_BONUS,
    FAMILY_CAP,
    OBFUSCATED,
    OBFUSCATED_BONUS,
    REPEAT_LONG,
    REPEAT_LONG_WEIGHT,
    REPEAT_SHORT,
    REPEAT_SHORT_WEIGHT,
    Rule,
)
from guardrails.injection.rules import DECODE_REQUEST, RULES, SQUASHED_RULES
from guardrails.injection.views import Views, letters_only, read

_RuleName = tuple[str, str]


class InjectionVerdict(BaseModel):
    """``signals``: the families that contributed to ``score``, strongest first."""

    flagged: bool
    score: float
    signals: list[str]


def _matches(rules: Sequence[Rule], text: str) -> set[Rule]:
    return {rule for rule in rules if rule.pattern.search(text)}


def _names(rules: Iterable[Rule]) -> set[_RuleName]:
    return {(rule.family, rule.name) for rule in rules}


def _hidden_hits(views: Views, plain: set[Rule]) -> set[Rule]:
    """Rules that fired in the de-obfuscated or letters-only view but not in the normalised one."""
    hidden: set[Rule] = set()
    if views.deobfuscated != views.normalised:
        hidden |= _matches(RULES, views.deobfuscated) - plain
    plain_names = _names(plain)
    hidden |= {
        rule
        for rule in _matches(SQUASHED_RULES, views.letters)
        if (rule.family, rule.name) not in plain_names
    }
    return hidden


def _decoded_hits(text: str, normalised: str) -> set[Rule]:
    """Rules that fired in a decoded payload or in the ROT13 reading."""
    hits: set[Rule] = set()
    for payload in payload_views(text, normalised):
        hits |= _matches(RULES, payload)
        hits |= _matches(SQUASHED_RULES, letters_only(payload))
    return hits


def _add(families: dict[str, float], family: str, weight: float) -> None:
    families[family] = min(FAMILY_CAP, families.get(family, 0.0) + weight)


def _rule_scores(rules: Iterable[Rule]) -> dict[str, float]:
    """Each family's capped sum of weights, a rule of the same family and name counted once."""
    families: dict[str, float] = {}
    seen: set[_RuleName] = set()
    for rule in sorted(rules, key=lambda r: (r.family, r.name)):
        if (rule.family, rule.name) in seen:
            continue
        seen.add((rule.family, rule.name))
        _add(families, rule.family, rule.weight)
    return families


def _repeat_weight(longest_repeat: int) -> float:
    if longest_repeat >= REPEAT_LONG:
        return REPEAT_LONG_WEIGHT
    if longest_repeat >= REPEAT_SHORT:
        return REPEAT_SHORT_WEIGHT
    return 0.0


def _encoded_weight(decoded_names: set[_RuleName], normalised: str) -> float:
    return (ENCODED_BONUS if decoded_names else 0.0) + (
        DECODE_REQUEST_WEIGHT if DECODE_REQUEST.search(normalised) else 0.0
    )


def explain(text: str) -> dict[str, float]:
    """Each family's contribution to the score (families that did not fire are left out)."""
    views = read(text)
    plain = _matches(RULES, views.normalised)
    hidden = _hidden_hits(views, plain)
    decoded = _decoded_hits(text, views.normalised)

    families = _rule_scores(plain | hidden | decoded)
    repeat = _repeat_weight(views.longest_repeat)
    if repeat:
        _add(families, DELIMITER, repeat)
    plain_names = _names(plain)
    if _names(hidden) - plain_names:
        families[OBFUSCATED] = OBFUSCATED_BONUS
    encoded = _encoded_weight(_names(decoded) - plain_names, views.normalised)
    if encoded:
        families[ENCODED] = encoded
    return families


def verdict_from(families: dict[str, float], *, threshold: float) -> InjectionVerdict:
    score = round(sum(families.values()), 3)
    signals = [name for name, _ in sorted(families.items(), key=lambda kv: (-kv[1], kv[0]))]
    return InjectionVerdict(flagged=score >= threshold, score=score, signals=signals)


def detect_injection(text: str, *, threshold: float = DEFAULT_THRESHOLD) -> InjectionVerdict:
    """Whether ``text`` tries to instruct the assistant rather than ask it something."""
    return verdict_from(explain(text), threshold=threshold)
