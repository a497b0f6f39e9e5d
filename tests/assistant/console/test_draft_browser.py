"""The draft editor end to end in headless Chromium: an agent opens a case whose answer was
withheld, finds the draft in the reply editor, edits it and sends it; the audit trail says the
draft was edited and the customer sees the reply. Screenshots go to test-output/screenshots/
(``console-draft-editor.png`` with the edited draft, ``console-draft-sent.png`` after)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from assistant.app import create_app
from assistant.settings import Settings
from assistant.storage import Database
from core.embeddings import HashingEmbedder
from core.llm.fake import FakeChatModel
from knowledge_base.store import InMemoryStore
from tests.assistant.api.conftest import fake_services, grant
from tests.assistant.console.test_browser import Build
from tests.conftest import answer_json
from tests.support.browser import chromium_page, screenshot_dir
from tests.support.server import serve

pytestmark = pytest.mark.integration

DRAFT = "Refunds for damaged items can be requested in the app. Loyal customers always get one."
ADDED = " Open Orders, pick the order and tap Get Help within 7 days of delivery."


def test_an_agent_edits_the_withheld_draft_and_sends_it(
    database: Database, make_assistant: Build, embedder: HashingEmbedder, kb_store: InMemoryStore
) -> None:
    model = FakeChatModel().enqueue(answer_json(DRAFT, ["ref-001"]), "0.12")
    services = fake_services(
        database, model=model, make_assistant=make_assistant, embedder=embedder, kb_store=kb_store
    )
    keys = grant(database)
    customer = keys["cust-a"]
    shots = screenshot_dir()
    with serve(create_app(services=services, settings=Settings())) as url:
        with httpx.Client(base_url=url, timeout=30) as http:
            cid = http.post("/v1/conversations", json={}, headers=customer).json()["id"]
            sent = http.post(
                f"/v1/conversations/{cid}/messages",
                json={"text": "My cake came crushed. Can I get a refund?"},
                headers=customer,
            ).json()
        assert sent["answered"] is False
        case = sent["escalation_id"]

        with chromium_page(viewport=(1360, 1000)) as page:
            page.goto(f"{url}/console/login")
            page.fill("#key", keys["alice"]["Authorization"].removeprefix("Bearer "))
            page.click("button[type=submit]")
            page.goto(f"{url}/console/cases/{case}")
            page.get_by_test_id("claim").click()
            editor = page.get_by_test_id("draft-editor")
            expect(editor).to_have_value(DRAFT)
            expect(page.get_by_test_id("draft-citations")).to_contain_text("ref-001")
            editor.fill(DRAFT.replace(" Loyal customers always get one.", "") + ADDED)
            page.get_by_test_id("restore-draft").click()  # a form reset, no script
            expect(editor).to_have_value(DRAFT)
            editor.fill(DRAFT.replace(" Loyal customers always get one.", "") + ADDED)
            page.screenshot(path=shots / "console-draft-editor.png", full_page=True)
            page.get_by_test_id("send-reply").click()
            expect(page.get_by_test_id("notice")).to_contain_text("case resolved")
            expect(page.get_by_test_id("draft-use")).to_contain_text("draft edited")
            expect(page.get_by_test_id("transcript")).to_contain_text("tap Get Help")
            page.screenshot(path=shots / "console-draft-sent.png", full_page=True)

        with httpx.Client(base_url=url, timeout=30) as http:
            seen = http.get(f"/v1/conversations/{cid}", headers=customer).json()
    last = seen["messages"][-1]
    assert (last["role"], last["from_person"]) == ("agent", True)
    assert last["text"].endswith("within 7 days of delivery.")
    record = services.database.escalations.get(case)
    assert record.resolution.draft_use == "edited"
    for name in ("console-draft-editor.png", "console-draft-sent.png"):
        data = (shots / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000, name
