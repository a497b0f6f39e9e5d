"""The whole message path on the real embedded stack: GGUF model, MiniLM, Chroma on disk, SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.settings import Settings
from assistant.storage import Database
from assistant.storage.keys import Role
from assistant.wiring import assemble
from core.conversation import Turn
from core.embeddings import MiniLMEmbedder
from core.llm.fake import FakeChatModel
from core.llm.llama_cpp import LlamaCppModel
from guardrails.verdict import ReasonCode
from knowledge_base.store import ChromaStore
from tests.conftest import WRITTEN, answer_json
from tests.integration.conftest import AssistantFactory

pytestmark = pytest.mark.integration


def test_a_grounded_question_is_answered_through_the_api(
    tmp_path: Path, llama: LlamaCppModel, minilm: MiniLMEmbedder, sample_store: ChromaStore
) -> None:
    settings = Settings(data_dir=tmp_path)
    services = assemble(
        settings,
        model=llama,
        embedder=minilm,
        vector_store=sample_store,
        database=Database.connect(settings.resolved_database_url),
    )
    customer = services.database.keys.create("web", Role.CUSTOMER).secret
    with TestClient(
        create_app(services=services, settings=settings),
        headers={"Authorization": f"Bearer {customer}"},
    ) as client:
        cid = client.post("/v1/conversations", json={}).json()["id"]
        response = client.post(
            f"/v1/conversations/{cid}/messages",
            json={"text": "How much does Instant Pay charge each time I cash out?"},
        )
        assert client.get("/readyz").status_code == 200
    assert services.database.escalations.counts().waiting == 0
    body = response.json()
    assert response.status_code == 200, body
    assert body["answered"] is True, body
    assert body["verdict"]["outcome"] == "pass"
    assert "0.85" in body["reply"]["text"]
    assert "pay-002" in [c["article_id"] for c in body["citations"]]
    assert body["issue_type"] == "payments_and_pay"


def test_a_question_outside_the_knowledge_base_is_escalated(
    llama: LlamaCppModel, sample_assistant: AssistantFactory
) -> None:
    assistant = sample_assistant(llama)
    reply = assistant.respond(
        [
            Turn(
                role="customer",
                text="Can I pay for my order with Bitcoin or another cryptocurrency?",
            )
        ]
    )
    assert not reply.answered, reply.text
    assert reply.verdict.outcome == "escalate"
    assert reply.verdict.reasons


def test_a_planted_wrong_deadline_is_caught(
    llama: LlamaCppModel, sample_assistant: AssistantFactory
) -> None:
    wrong = FakeChatModel().enqueue(
        answer_json(
            "You can request a refund for missing items within 30 days of delivery.", ["ref-001"]
        )
    )
    assistant = sample_assistant(wrong, judge=llama, **WRITTEN)  # a written answer's JSON
    reply = assistant.respond(
        [Turn(role="customer", text="How long do I have to ask for a refund for missing items?")]
    )
    assert not reply.answered
    assert ReasonCode.UNGROUNDED in reply.verdict.reasons
    assert reply.withheld_answer is not None and "30 days" in reply.withheld_answer
    flagged = [f for f in reply.verdict.flagged if "30 days" in f.sentence]
    assert flagged and flagged[0].evidence_article_id is not None
