"""The console end to end in a real headless Chromium (Debian's), against the app on loopback.

An agent logs in, filters the queue, opens and claims a case, replies and resolves, and the
customer's conversation shows the reply as from a person. Screenshots of the queue and the case
page go to test-output/screenshots/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from assistant.app import create_app
from assistant.escalations.models import NewEscalation
from assistant.pipeline.assistant import Assistant
from assistant.settings import Settings
from assistant.storage import Database
from assistant.wiring import Services
from core.embeddings import HashingEmbedder
from core.llm.fake import FakeChatModel
from knowledge_base.store import InMemoryStore
from tests.assistant.api.conftest import Headers, fake_services, grant
from tests.conftest import answer_json
from tests.support.browser import chromium_page, screenshot_dir
from tests.support.server import serve

pytestmark = pytest.mark.integration

Build = Callable[..., Assistant]

OTHER_CASES = [
    ("safety_incidents", ["non_compliant"], "A courier was rude and drove dangerously near my kid"),
    ("payments_and_pay", ["ungrounded"], "Why was I charged twice for Instant Pay yesterday?"),
    ("order_problems", ["no_relevant_articles"], "Can I order from a shop that is not in the app?"),
    ("account_access", ["llm_error"], "My account got locked after changing my phone number"),
]


def seed(services: Services, *, when: datetime) -> None:
    """Older cases of other kinds, so the queue has something to sort and filter."""
    for n, (issue_type, reasons, question) in enumerate(OTHER_CASES):
        convo = services.database.conversations.create(owner="cust-b")
        message = services.database.conversations.add_message(
            convo.id, role="customer", text=question
        )
        new = NewEscalation(
            conversation_id=convo.id,
            message_id=message.id,
            reasons=reasons,
            tier=1,
            issue_type=issue_type,
            core_issue=question,
            transcript=[{"role": "customer", "text": question}],
            verdict={"outcome": "escalate", "flagged": []},
            evidence={},
        )
        rule = services.desk.rules.assign(issue_type=issue_type, reasons=reasons)
        services.database.escalations.add(
            new, level=rule.level, rule=rule.rule, now=when - timedelta(minutes=40 * (n + 1))
        )


@pytest.fixture
def console(
    database: Database, make_assistant: Build, embedder: HashingEmbedder, kb_store: InMemoryStore
) -> Iterator[tuple[str, dict[str, Headers], FakeChatModel]]:
    model = FakeChatModel()
    services = fake_services(
        database, model=model, make_assistant=make_assistant, embedder=embedder, kb_store=kb_store
    )
    seed(services, when=datetime.now(UTC))
    with serve(create_app(services=services, settings=Settings())) as url:
        yield url, grant(database), model


def test_an_agent_claims_and_answers_a_case_in_the_browser(
    console: tuple[str, dict[str, Headers], FakeChatModel],
) -> None:
    url, keys, model = console
    model.enqueue(
        answer_json(
            "You can ask for a refund in the app. Loyal customers always get their refund "
            "approved, whatever the deadline: we will refund you in full.",
            ["ref-001"],
        ),
        '{"grounding": {"rationale": "The refund article sets a 7-day deadline and says nothing '
        'about loyalty.", "ok": false}, "coherence": {"rationale": "", "ok": true}, '
        '"compliance": {"rationale": "Promises a refund beyond policy.", "ok": false}}',
    )
    customer = keys["cust-a"]
    with httpx.Client(base_url=url, timeout=30) as http:
        cid = http.post("/v1/conversations", json={}, headers=customer).json()["id"]
        sent = http.post(
            f"/v1/conversations/{cid}/messages",
            json={"text": "My order came with a crushed cake. Can I still get a refund?"},
            headers=customer,
        ).json()
    assert sent["answered"] is False
    case = sent["escalation_id"]
    shots = screenshot_dir()

    with chromium_page(viewport=(1360, 900)) as page:
        page.goto(f"{url}/console")
        expect(page).to_have_url(f"{url}/console/login")
        page.fill("#key", keys["alice"]["Authorization"].removeprefix("Bearer "))
        page.click("button[type=submit]")
        expect(page.get_by_test_id("agent-name")).to_contain_text("alice")
        rows = page.locator("table.queue tbody tr[data-case]")
        expect(rows).to_have_count(5)
        # most urgent first: the safety incident (P1) heads the queue
        expect(rows.first.locator(".prio")).to_have_text("P1")
        expect(page.get_by_test_id("count-waiting")).to_have_text("5")
        page.screenshot(path=shots / "console-queue.png", full_page=True)

        page.select_option("select[name=issue_type]", "refunds")
        page.get_by_test_id("apply-filters").click()
        expect(rows).to_have_count(1)
        expect(page.get_by_test_id("total")).to_have_text("1 case")
        page.get_by_test_id("open-case").first.click()
        expect(page).to_have_url(f"{url}/console/cases/{case}")

        highlighted = page.locator("[data-testid=withheld] mark")
        expect(
            highlighted.filter(has_text="Loyal customers always get their refund")
        ).to_have_count(1)
        expect(page.get_by_test_id("findings")).to_be_visible()
        expect(page.get_by_test_id("judge")).to_contain_text("Promises a refund beyond policy.")
        page.screenshot(path=shots / "console-case.png", full_page=True)

        page.get_by_test_id("claim").click()
        expect(page.get_by_test_id("notice")).to_have_text("You claimed this case.")
        expect(page.get_by_test_id("case-status")).to_have_text("claimed")
        page.fill("input[name=text]", "Photo of the cake attached to the order; within 7 days.")
        page.get_by_test_id("add-note").click()
        expect(page.get_by_test_id("events")).to_contain_text("Photo of the cake")
        page.fill(
            "#reply",
            "Sorry about the cake! Refunds for damaged items can be requested within 7 days of "
            "delivery: open Orders, pick the order and tap Get Help. I have started it for you.",
        )
        page.check("input[name=kb_gap]")
        page.get_by_test_id("send-reply").click()
        expect(page.get_by_test_id("notice")).to_contain_text("case resolved")
        expect(page.get_by_test_id("case-status")).to_have_text("resolved")
        expect(page.get_by_test_id("transcript")).to_contain_text("I have started it for you.")
        page.screenshot(path=shots / "console-case-resolved.png", full_page=True)

        # back in the queue, the case is no longer waiting
        page.goto(f"{url}/console")
        expect(rows).to_have_count(4)
        _check_screenshots(page, shots)

    with httpx.Client(base_url=url, timeout=30) as http:
        seen = http.get(f"/v1/conversations/{cid}", headers=customer).json()
    last = seen["messages"][-1]
    assert last["role"] == "agent"
    assert last["from_person"] is True
    assert last["text"].endswith("I have started it for you.")
    assert "Photo of the cake" not in str(seen)  # the internal note stays internal


def _check_screenshots(_: Page, shots: object) -> None:
    from pathlib import Path

    assert isinstance(shots, Path)
    for name in ("console-queue.png", "console-case.png", "console-case-resolved.png"):
        data = (shots / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000, name


def test_a_customer_key_cannot_log_in_to_the_console(
    console: tuple[str, dict[str, Headers], FakeChatModel],
) -> None:
    url, keys, _ = console
    with chromium_page() as page:
        page.goto(f"{url}/console/login")
        page.fill("#key", keys["cust-a"]["Authorization"].removeprefix("Bearer "))
        page.click("button[type=submit]")
        expect(page.get_by_test_id("error")).to_contain_text("this is a customer key")
        page.goto(f"{url}/console")
        expect(page).to_have_url(f"{url}/console/login")
