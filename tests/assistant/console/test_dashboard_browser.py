"""The quality pages end to end in headless Chromium, on a simulated day of traffic: the
dashboard with its plots and drift alert, a review of a sampled conversation, and an admin
accepting a knowledge-base gap. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from assistant.app import create_app
from assistant.pipeline.assistant import Assistant
from assistant.settings import SAMPLE_KB, Settings
from assistant.storage import Database
from core.embeddings import HashingEmbedder, MiniLMEmbedder
from core.llm.fake import FakeChatModel
from evals.simulated_day import run_day
from knowledge_base.store import InMemoryStore
from tests.assistant.api.conftest import fake_services, grant
from tests.support.browser import chromium_page, screenshot_dir
from tests.support.server import serve

pytestmark = pytest.mark.integration

Build = Callable[..., Assistant]


def test_dashboard_review_and_kb_gap_pages_in_the_browser(
    tmp_path: Path,
    make_assistant: Build,
    embedder: HashingEmbedder,
    kb_store: InMemoryStore,
) -> None:
    database = Database.connect("sqlite://")
    minilm = MiniLMEmbedder()
    figures = run_day(database, minilm, now=datetime.now(UTC), leave_unreviewed=1)
    assert figures["drift"]["issue_type"]["drifted"] is True  # type: ignore[index]
    pending = next(r for r in database.quality.reviews() if r.human_scores is None)
    kb = tmp_path / "kb"
    kb.mkdir()
    shutil.copy(SAMPLE_KB / "articles" / "pay-001.md", kb / "pay-001.md")
    services = fake_services(
        database,
        model=FakeChatModel(),
        make_assistant=make_assistant,
        embedder=embedder,
        kb_store=kb_store,
    )
    services.embedder = minilm  # gap clustering on real embeddings
    keys = grant(database)
    shots = screenshot_dir()
    # only escalations as gap evidence: the simulated questions mean nothing by themselves
    settings = Settings(kb_path=kb, gap_retrieval_below=0.0)
    with (
        serve(create_app(services=services, settings=settings)) as url,
        chromium_page(viewport=(1360, 900)) as page,
    ):
        page.goto(f"{url}/console/login")
        page.fill("#key", keys["root"]["Authorization"].removeprefix("Bearer "))
        page.click("button[type=submit]")
        page.goto(f"{url}/console/dashboard")
        expect(page.get_by_test_id("drift-alerts")).to_contain_text("issue_type")
        expect(page.get_by_test_id("agreement")).to_contain_text("accuracy")
        expect(page.locator("img[alt='judge scores per day']")).to_be_visible()
        expect(page.locator("img[alt='issue-type drift']")).to_be_visible()
        page.screenshot(path=shots / "dashboard.png", full_page=True)

        page.goto(f"{url}/console/reviews")
        expect(page.get_by_test_id("reviews")).to_contain_text(pending.conversation_id)
        page.get_by_test_id("open-review").first.click()
        page.select_option("select[name=accuracy]", "2")
        page.get_by_test_id("submit-review").click()
        expect(page.get_by_test_id("notice")).to_contain_text("scores are saved")

        page.goto(f"{url}/console/kb")
        clusters = page.get_by_test_id("gap-cluster")
        expect(clusters).to_have_count(2)
        page.screenshot(path=shots / "kb-gaps.png", full_page=True)
        first = clusters.first
        first.locator("input[name=issue_type]").fill("payments_and_pay")
        first.locator("textarea[name=text]").fill(
            "Hoppa does not accept bitcoin or other cryptocurrencies; pay by card or wallet."
        )
        first.get_by_test_id("accept-gap").click()
        expect(page.get_by_test_id("notice")).to_contain_text("added and ingested")
    assert len(list(kb.glob("gap-*.md"))) == 1
    reviewed = {r.conversation_id: r for r in database.quality.reviews()}
    assert reviewed[pending.conversation_id].human_scores is not None
    for name in ("dashboard.png", "kb-gaps.png"):
        assert (shots / name).read_bytes().startswith(b"\x89PNG")
    database.close()
