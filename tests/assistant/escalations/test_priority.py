from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.escalations.priority import PriorityRules, load_priority_rules
from assistant.settings import Settings
from core.errors import ConfigurationError

RULES = PriorityRules.model_validate(
    {
        "priorities": {"urgent": {"sla_minutes": 10}, "normal": {"sla_minutes": 120}},
        "default": "normal",
        "rules": [
            {"name": "safety", "priority": "urgent", "issue_types": ["safety_incidents"]},
            {"name": "broken", "priority": "urgent", "reasons": ["llm_error"]},
        ],
    }
)


def test_the_first_matching_rule_sets_priority_and_due_time() -> None:
    safety = RULES.assign(issue_type="safety_incidents", reasons=["ungrounded"])
    assert (safety.level.name, safety.level.rank, safety.rule) == ("urgent", 1, "safety")
    broken = RULES.assign(issue_type="tips", reasons=["ungrounded", "llm_error"])
    assert (broken.level.name, broken.rule) == ("urgent", "broken")
    plain = RULES.assign(issue_type="tips", reasons=["ungrounded"])
    assert (plain.level.name, plain.level.rank, plain.rule) == ("normal", 2, "default")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert plain.level.due(t0) == t0 + timedelta(minutes=120)


def test_the_shipped_rules_put_safety_first_then_payments() -> None:
    rules = load_priority_rules(Settings().priority_rules_path)
    ranks = {
        name: rules.assign(issue_type=name, reasons=["ungrounded"]).level.rank
        for name in ("safety_incidents", "payments_and_pay", "refunds", "order_problems")
    }
    assert ranks["safety_incidents"] < ranks["payments_and_pay"] == ranks["refunds"]
    assert ranks["payments_and_pay"] < ranks["order_problems"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("priorities: {}\ndefault: P1\n", "at least one"),
        ("priorities: {P1: {sla_minutes: 5}}\ndefault: P9\n", "P9"),
        (
            "priorities: {P1: {sla_minutes: 5}}\ndefault: P1\nrules: [{name: x, priority: P1}]\n",
            "matches everything",
        ),
        ("priorities: {P1: {sla_minutes: 0}}\ndefault: P1\n", "greater than 0"),
        ("priorities: [", "priority rules"),
    ],
)
def test_bad_rule_files_are_configuration_errors(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=needle):
        load_priority_rules(path)
