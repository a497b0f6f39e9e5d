"""Schemathesis against the app on fakes, with every check it has (the CLI's ``--checks all``):
examples, coverage, fuzzing and stateful phases, once with a customer key, once with an agent
key and last with an admin key (whose run may revoke the others). No server error, and no
response that the OpenAPI document does not describe.

``scripts/fuzz.sh`` runs the same against a running server, with thousands of requests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.assistant.api.fake_app import build

pytestmark = pytest.mark.integration

# A text over its documented maxLength is refused with 413 (the README's "longer texts get
# 413"), which schemathesis does not count as a rejection by default.
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]


def run(app: object, key: str, *, examples: int) -> tuple[int, Counter[int], list[str]]:
    # Imported here: collecting this module for a unit run (which deselects it) would otherwise
    # import schemathesis and hypothesis, about 1.5 s of every unit run's start.
    import schemathesis
    from schemathesis.engine import Status, events, from_schema

    config = schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {key}"},
            "seed": 20261202,
            "generation": {"max-examples": examples, "database": "none"},
            "checks": {"negative_data_rejection": {"expected-statuses": [*REJECTIONS, "5xx"]}},
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    requests, statuses, failures = 0, Counter[int](), []
    for event in from_schema(schema).execute():
        if isinstance(event, events.FatalError | events.NonFatalError):
            failures.append(f"{type(event).__name__}: {getattr(event, 'info', event)}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        requests += len(event.recorder.interactions)
        statuses.update(
            i.response.status_code
            for i in event.recorder.interactions.values()
            if i.response is not None
        )
        for checks in event.recorder.checks.values():
            failures += [
                f"{event.label} {c.name}: {c.failure_info.failure.title}\n"
                f"{c.failure_info.failure.message}\n{c.failure_info.code_sample}"
                for c in checks
                if c.status == Status.FAILURE and c.failure_info is not None
            ]
    return requests, statuses, failures


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    # A fuzzer fails authentication on purpose and posts many messages: those limits off.
    fake = build(
        tmp_path,
        auth_failures_per_address=0,
        auth_failures_per_prefix=0,
        messages_per_conversation=0,
    )
    total = 0
    for role in ("customer", "agent", "admin"):
        requests, statuses, failures = run(fake.app, fake.keys[role], examples=2)
        assert failures == [], "\n\n".join(failures[:10])
        assert not [s for s in statuses if s >= 500], statuses
        assert statuses[200] + statuses[201] > 0, (role, statuses)
        total += requests
    assert total >= 300
    fake.database.close()
