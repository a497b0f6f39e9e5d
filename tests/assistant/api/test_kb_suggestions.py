import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.escalations.models import NewEscalation
from assistant.settings import SAMPLE_KB, Settings
from assistant.storage.locks import Job, Lease
from assistant.wiring import Services
from knowledge_base.articles import load_articles
from tests.assistant.api.conftest import Headers

TOPICS = {
    "crypto": "can I pay for my order with bitcoin crypto",
    "pets": "can a courier deliver my pet dog to the vet",
}


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    folder.mkdir()
    for name in ("pay-001.md", "ref-001.md"):
        shutil.copy(SAMPLE_KB / "articles" / name, folder / name)
    return folder


@pytest.fixture
def admin_client(services: Services, keys: dict[str, Headers], kb: Path) -> Iterator[TestClient]:
    app = create_app(services=services, settings=Settings(kb_path=kb))
    with TestClient(app, headers=keys["root"]) as client:
        yield client


def plant(services: Services) -> list[str]:
    ids = []
    for topic, question in TOPICS.items():
        for n in range(3):
            convo = services.database.conversations.create()
            text = f"{question} please {n}"
            message = services.database.conversations.add_message(
                convo.id, role="customer", text=text
            )
            case = services.desk.escalate(
                NewEscalation(
                    conversation_id=convo.id,
                    message_id=message.id,
                    reasons=["no_relevant_articles"],
                    tier=0,
                    issue_type=topic,
                    core_issue=text,
                    transcript=[{"role": "customer", "text": text}],
                    verdict={"outcome": "escalate"},
                    evidence={},
                )
            )
            services.desk.claim(case.id, "alice")
            services.desk.resolve(
                case.id, "alice", reply=f"Agent answer about {topic}.", kb_gap=True
            )
            ids.append(case.id)
    return ids


def test_admins_see_gap_topics_and_accepting_one_adds_an_article(
    admin_client: TestClient, services: Services, kb: Path
) -> None:
    plant(services)
    clusters = admin_client.get("/v1/admin/kb-suggestions").json()
    assert len(clusters) == 2
    crypto = next(c for c in clusters if "crypto" in c["label"] or "bitcoin" in c["label"])
    assert crypto["size"] == 3
    assert crypto["answers"] == ["Agent answer about crypto."]
    assert crypto["sources"] == {"escalation": 3}
    accepted = admin_client.post(
        "/v1/admin/kb-suggestions/accept",
        json={
            "title": "Paying with cryptocurrency",
            "issue_type": "payments_and_pay",
            "text": "Hoppa does not accept bitcoin or any other cryptocurrency. Pay by card.",
            "item_ids": [i["id"] for i in crypto["items"]],
        },
    )
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["article_id"] in body["ingest"]["added"]
    assert body["closed_gaps"] == 3
    assert body["article_id"] in [a.id for a in load_articles(kb)]
    assert len(services.database.escalations.kb_gaps()) == 3  # the pet ones stay open
    # the new article is searchable at once
    hits = services.assistant.searcher.search_articles("pay with bitcoin cryptocurrency", 3)
    assert body["article_id"] in hits


def test_accepting_into_a_knowledge_base_that_is_not_a_folder_is_a_clear_409(
    services: Services, keys: dict[str, Headers], tmp_path: Path
) -> None:
    single = tmp_path / "kb.jsonl"
    single.write_text("")
    app = create_app(services=services, settings=Settings(kb_path=single))
    with TestClient(app, headers=keys["root"]) as client:
        response = client.post(
            "/v1/admin/kb-suggestions/accept",
            json={"title": "Crypto", "issue_type": "payments_and_pay", "text": "x" * 30},
        )
    assert response.status_code == 409
    assert "not a folder" in response.json()["detail"]


def test_while_another_replica_ingests_ingest_and_accept_are_409_and_write_nothing(
    admin_client: TestClient, services: Services, kb: Path
) -> None:
    other = services.database.locks.acquire(Job.INGEST, holder="replica-b")
    assert isinstance(other, Lease)
    before = sorted(kb.iterdir())

    ingested = admin_client.post("/v1/admin/ingest")
    accepted = admin_client.post(
        "/v1/admin/kb-suggestions/accept",
        json={"title": "Crypto", "issue_type": "payments_and_pay", "text": "x" * 30},
    )

    for response in (ingested, accepted):
        assert response.status_code == 409
        assert "kb-ingest is already running (replica-b" in response.json()["detail"]
    assert sorted(kb.iterdir()) == before
    services.database.locks.release(other)
    assert admin_client.post("/v1/admin/ingest").status_code == 200
    assert services.database.locks.current(Job.INGEST) is None


def test_a_misconfigured_server_says_so_with_a_500_not_a_conflict(
    services: Services, keys: dict[str, Headers], tmp_path: Path
) -> None:
    app = create_app(services=services, settings=Settings(kb_path=tmp_path / "missing"))
    with TestClient(app, headers=keys["root"]) as client:
        response = client.post("/v1/admin/ingest")
    assert response.status_code == 500
    assert response.json()["detail"] == (
        f"the server is misconfigured: knowledge base path {tmp_path / 'missing'} does not exist"
    )


def test_suggestions_are_admin_only(client: TestClient, keys: dict[str, Headers]) -> None:
    assert client.get("/v1/admin/kb-suggestions", headers=keys["alice"]).status_code == 403
