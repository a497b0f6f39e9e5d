"""The queue under real HTTP, on SQLite and on PostgreSQL: concurrent claims, and a database
restart in the middle of traffic that loses no acknowledged escalation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from assistant.app import create_app
from assistant.pipeline.assistant import Assistant
from assistant.settings import Settings
from assistant.storage import Database
from core.embeddings import HashingEmbedder
from core.llm.fake import FakeChatModel
from knowledge_base.store import InMemoryStore
from tests.assistant.api.conftest import Headers, fake_services, grant
from tests.support.postgres import PostgresServer
from tests.support.server import serve

pytestmark = pytest.mark.integration

Build = Callable[..., Assistant]


def always_garbage(_: object) -> str:
    return "not json"  # every answer is malformed: every message escalates


@pytest.fixture
def live(
    any_database: Database,
    make_assistant: Build,
    embedder: HashingEmbedder,
    kb_store: InMemoryStore,
) -> Iterator[tuple[str, dict[str, Headers], Database]]:
    services = fake_services(
        any_database,
        model=FakeChatModel(responder=always_garbage),
        make_assistant=make_assistant,
        embedder=embedder,
        kb_store=kb_store,
    )
    keys = grant(any_database)
    with serve(create_app(services=services, settings=Settings())) as url:
        yield url, keys, any_database


def new_case(http: httpx.Client, keys: dict[str, Headers]) -> str:
    cid = http.post("/v1/conversations", json={}, headers=keys["cust-a"]).json()["id"]
    body = http.post(
        f"/v1/conversations/{cid}/messages",
        json={"text": "Where is my order?"},
        headers=keys["cust-a"],
    ).json()
    return str(body["escalation_id"])


def test_two_agents_claiming_at_once_one_wins_the_other_gets_409(
    live: tuple[str, dict[str, Headers], Database],
) -> None:
    url, keys, database = live
    with httpx.Client(base_url=url, timeout=30) as http:
        cases = [new_case(http, keys) for _ in range(15)]
    for case in cases:
        barrier = threading.Barrier(2)
        statuses: dict[str, int] = {}

        def claim(
            agent: str,
            case: str = case,
            barrier: threading.Barrier = barrier,
            statuses: dict[str, int] = statuses,
        ) -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                barrier.wait()
                response = http.post(f"/v1/escalations/{case}/claim", headers=keys[agent])
                statuses[agent] = response.status_code

        threads = [threading.Thread(target=claim, args=(a,)) for a in ("alice", "bob")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses.values()) == [200, 409], statuses
        winner = next(a for a, s in statuses.items() if s == 200)
        assert database.escalations.get(case).assignee == winner


@pytest.mark.parametrize("any_database", ["postgresql"], indirect=True)
def test_a_postgresql_restart_mid_traffic_loses_no_acknowledged_escalation(
    live: tuple[str, dict[str, Headers], Database], postgres_server: PostgresServer
) -> None:
    url, keys, database = live
    acknowledged: list[str] = []
    failures: list[int] = []
    stop = threading.Event()

    def counted_traffic() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while not stop.is_set():
                cid = http.post("/v1/conversations", json={}, headers=keys["cust-a"])
                if cid.status_code != 201:
                    failures.append(cid.status_code)
                    continue
                reply = http.post(
                    f"/v1/conversations/{cid.json()['id']}/messages",
                    json={"text": "Where is my order?"},
                    headers=keys["cust-a"],
                )
                if reply.status_code == 200:
                    acknowledged.append(reply.json()["escalation_id"])
                else:
                    failures.append(reply.status_code)

    writer = threading.Thread(target=counted_traffic)
    writer.start()
    while len(acknowledged) < 20:
        time.sleep(0.05)
    before = len(acknowledged)
    postgres_server.restart("immediate")  # a crash: no clean shutdown, recovery from the WAL
    deadline = time.monotonic() + 30
    while len(acknowledged) < before + 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    writer.join()
    assert len(acknowledged) >= before + 20, "traffic did not resume after the restart"
    assert set(failures) <= {503}, failures  # refused while down, never a 500
    print(f"acknowledged {len(acknowledged)}, refused with 503 while down: {len(failures)}")
    missing = []
    for case in acknowledged:
        try:
            database.escalations.get(case)
        except Exception:
            missing.append(case)
    assert missing == []


WRITER = """
import sys
from assistant.desk import AgentDesk
from assistant.escalations.models import NewEscalation
from assistant.escalations.priority import load_priority_rules
from assistant.settings import Settings
from assistant.storage import Database

db = Database.connect(sys.argv[1])
desk = AgentDesk(db, load_priority_rules(Settings().priority_rules_path))
while True:
    convo = db.conversations.create()
    msg = db.conversations.add_message(convo.id, role="customer", text="help")
    case = desk.escalate(NewEscalation(
        conversation_id=convo.id, message_id=msg.id, reasons=["ungrounded"], tier=1,
        issue_type="order_problems", core_issue="help", transcript=[],
        verdict={"outcome": "escalate"}, evidence={},
    ))
    print(case.id, flush=True)  # acknowledged: printed only after the commit returned
"""


def test_a_killed_writer_loses_no_acknowledged_escalation_in_the_sqlite_file(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/tether.db"
    Database.connect(url).close()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    assert writer.stdout is not None
    acknowledged = []
    for line in writer.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) >= 50:
            break
    writer.send_signal(signal.SIGKILL)  # mid-write, no chance to close anything
    writer.wait()
    writer.stdout.close()
    reopened = Database.connect(url)
    try:
        for case in acknowledged:
            assert reopened.escalations.get(case).status == "open"
    finally:
        reopened.close()
