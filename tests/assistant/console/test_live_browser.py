"""The console's live conversation in headless Chromium: sentences appear as they pass the check,
and a later sentence that fails is never shown; a person takes over instead."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

import pytest
from playwright.sync_api import expect

from assistant.app import create_app
from assistant.pipeline.assistant import Assistant
from assistant.settings import Settings
from assistant.storage import Database
from core.embeddings import HashingEmbedder
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from knowledge_base.store import InMemoryStore
from tests.assistant.api.conftest import Headers, fake_services, grant
from tests.support.browser import chromium_page, screenshot_dir
from tests.support.server import serve

pytestmark = pytest.mark.integration

TRUE = "Each Instant Pay cash-out costs $0.85 [pay-002]."
FALSE = "You can cash out up to 9 times per day [pay-002]."


@pytest.fixture
def live(
    database: Database,
    make_assistant: Callable[..., Assistant],
    embedder: HashingEmbedder,
    kb_store: InMemoryStore,
) -> Iterator[tuple[str, dict[str, Headers]]]:
    def slow(_: Sequence[ChatMessage]) -> str:
        time.sleep(0.3)
        return f"{TRUE} {FALSE}"

    services = fake_services(
        database,
        model=FakeChatModel(slow),
        make_assistant=lambda m: make_assistant(m, answer_prompt="answer@5"),
        embedder=embedder,
        kb_store=kb_store,
    )
    with serve(create_app(services=services, settings=Settings())) as url:
        yield url, grant(database)


def test_the_live_page_streams_what_passed_and_hands_over_on_what_did_not(
    live: tuple[str, dict[str, Headers]],
) -> None:
    url, keys = live
    with chromium_page() as page:
        page.goto(f"{url}/console/login")
        page.fill("#key", keys["alice"]["Authorization"].removeprefix("Bearer "))
        page.click("button[type=submit]")
        page.goto(f"{url}/console/live")
        page.fill("#text", "How much does an Instant Pay cash-out cost?")
        page.get_by_test_id("send").click()
        expect(page.get_by_test_id("handoff")).to_be_visible()
        expect(page.get_by_test_id("sentence")).to_have_count(1)
        expect(page.get_by_test_id("sentence")).to_contain_text("costs $0.85")
        expect(page.get_by_test_id("transcript")).not_to_contain_text("9 times")
        expect(page.get_by_test_id("status")).to_have_text("handed over")
        page.screenshot(path=screenshot_dir() / "console-live.png", full_page=True)
