"""Rows written by Tether before the typed trace (commit 23b5d1d, migration 0003) still load.

``tests/fixtures/legacy-0003.db`` was made by that commit's code with
``tests/fixtures/make_legacy_database.py``: an answered reply, a reply withheld by the fact
check (with personal data redacted), one withheld by the rubric judge, a prompt injection, a
resolved case with a KB gap and a regression case, a quality review and a drift alert.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.monitoring import dashboard
from assistant.pipeline.assistant import Assistant
from assistant.pipeline.trace import ReplyTrace
from assistant.settings import Settings
from assistant.storage import Database
from assistant.storage.keys import Role
from assistant.storage.tables import utcnow
from core.embeddings import HashingEmbedder
from core.llm.fake import FakeChatModel
from guardrails.verdict import ReasonCode
from knowledge_base.store import InMemoryStore
from tests.assistant.api.conftest import fake_services

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy-0003.db"


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "legacy.db"
    shutil.copy(LEGACY, path)
    database = Database.connect(f"sqlite:///{path}")
    yield database
    database.close()


def _traces(database: Database) -> dict[str, ReplyTrace]:
    since = utcnow() - timedelta(days=3650)
    return {r.conversation_id: r.trace for r in database.quality.replies(since=since)}


def test_every_legacy_reply_reads_back_as_a_typed_trace(legacy: Database) -> None:
    traces = _traces(legacy)
    assert len(traces) == 4
    by_ref = {legacy.conversations.get(cid).customer_ref: trace for cid, trace in traces.items()}
    answered = by_ref["legacy-answered"]
    assert answered.answered and answered.verdict.passed
    assert answered.core_issue == "How much does Instant Pay cost each time?"  # lifted
    assert answered.reasoning == "The passage says so."
    assert [c.article_id for c in answered.citations] == ["pay-002"]
    assert answered.passages and answered.passages[0].article_id == "pay-002"
    assert answered.retrieval_best is not None
    ungrounded = by_ref["legacy-ungrounded"]
    assert ungrounded.verdict.reasons == [ReasonCode.UNGROUNDED]
    assert ungrounded.verdict.flagged[0].missing_facts == ["30 days"]
    assert ungrounded.escalation_id is not None
    judged = by_ref["legacy-judged"]
    assert judged.verdict.judge is not None and not judged.verdict.judge.compliance.ok
    assert by_ref["legacy-injection"].verdict.reasons == [ReasonCode.PROMPT_INJECTION]


def test_legacy_cases_load_with_typed_verdict_evidence_and_resolution(legacy: Database) -> None:
    cases = {c.core_issue: c for c in legacy.escalations.page(limit=50).items}
    assert len(cases) == 3
    resolved = next(c for c in cases.values() if c.status == "resolved")
    assert resolved.evidence.withheld_answer == "You have 30 days to ask for a refund."
    assert resolved.evidence.original_message is not None
    assert "sam@example.com" in resolved.evidence.original_message
    assert resolved.evidence.passages[0].article_id == "ref-001"
    assert resolved.transcript[0].role == "customer"
    assert "[EMAIL]" in resolved.transcript[0].text
    assert resolved.resolution.kb_gap and resolved.resolution.kb_gap_id is not None
    assert resolved.resolution.regression_case_id is not None
    (case,) = legacy.escalations.regression_cases()
    assert case.id == resolved.resolution.regression_case_id
    assert case.reference_answer.startswith("You have 7 days")
    # the agent's reply to the customer keeps who wrote it
    messages = legacy.conversations.get(resolved.conversation_id).messages
    agent = messages[-1].agent_reply
    assert agent is not None and agent.agent == "alice"
    assert messages[0].pii == ["email"]


def test_the_dashboard_builds_from_legacy_rows(legacy: Database) -> None:
    since = utcnow() - timedelta(days=3650)
    data = dashboard.build(
        legacy.quality.replies(since=since),
        legacy.quality.reviews(since=since),
        [],
    )
    assert sum(day.messages for day in data.days) == 4
    assert data.reasons == {"ungrounded": 1, "non_compliant": 1, "prompt_injection": 1}
    assert data.sampled == 1 and data.reviewed == 1


def test_the_console_and_the_api_show_legacy_cases(
    legacy: Database,
    make_assistant: Callable[..., Assistant],
    embedder: HashingEmbedder,
    kb_store: InMemoryStore,
) -> None:
    services = fake_services(
        legacy,
        model=FakeChatModel(),
        make_assistant=make_assistant,
        embedder=embedder,
        kb_store=kb_store,
    )
    agent = legacy.keys.create("carol", Role.AGENT).secret
    with TestClient(create_app(services=services, settings=Settings())) as client:
        cases = legacy.escalations.page(limit=50).items
        for case in cases:
            detail = client.get(
                f"/v1/escalations/{case.id}", headers={"Authorization": f"Bearer {agent}"}
            )
            assert detail.status_code == 200, detail.text
            assert detail.json()["verdict"]["outcome"] == "escalate"
        client.post("/console/login", data={"key": agent})
        withheld = next(c for c in cases if c.evidence.withheld_answer)
        page = client.get(f"/console/cases/{withheld.id}")
        assert page.status_code == 200
        assert "You have 30 days to ask for a refund." in page.text
        assert "30 days" in page.text and "ref-001" in page.text
