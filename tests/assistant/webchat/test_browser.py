"""The chat page in headless Chromium (Debian's), against the app on loopback with a fake model:
a customer signs in, asks, watches the answer's sentences arrive with links to their articles,
opens one and rates the answer; a question whose answer is withheld shows the hand-off, and the
reply an agent sends from the console's case page appears without a reload. Screenshots go to
test-output/screenshots/chat-*.png."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from assistant.app import create_app
from assistant.pipeline.assistant import Assistant
from assistant.settings import Settings
from assistant.storage import Database
from core.embeddings import HashingEmbedder
from core.llm.base import ChatMessage, Completion, TextSink
from core.llm.fake import FakeChatModel
from knowledge_base.store import InMemoryStore
from tests.assistant.api.conftest import Headers, fake_services, grant
from tests.support.browser import chromium_page, screenshot_dir
from tests.support.server import serve

pytestmark = pytest.mark.integration

FIRST = "Each Instant Pay cash-out costs $0.85 [pay-002]."
SECOND = "You can cash out up to 5 times per day [pay-002]."
WITHHELD = "Loyal customers always get their refund approved [ref-001]."
AGENT_REPLY = "You can ask for a refund within 7 days of delivery: open Orders and tap Get Help."


class PausingModel(FakeChatModel):
    """A fake model that, while streaming, stops after its first sentence until ``resume`` is
    set: the page shows that sentence while the rest is still being written."""

    def __init__(self) -> None:
        super().__init__()
        self.resume = threading.Event()

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        json_mode: bool = False,
        on_text: TextSink | None = None,
    ) -> Completion:
        if on_text is None:
            return super().complete(messages, max_tokens=max_tokens, json_mode=json_mode)
        pieces: list[str] = []

        def slowly(piece: str) -> None:
            # A sentence is complete once the next one starts: pause after the first word of the
            # second sentence.
            first_ended = [p.endswith("].") for p in pieces].count(True) == 1
            pause = first_ended and pieces[-1].endswith("].")
            pieces.append(piece)
            on_text(piece)
            if pause:
                self.resume.wait(timeout=10)

        return super().complete(
            messages, max_tokens=max_tokens, json_mode=json_mode, on_text=slowly
        )


@dataclass
class Site:
    url: str
    keys: dict[str, Headers]
    model: PausingModel
    database: Database


@pytest.fixture
def site(
    database: Database,
    make_assistant: Callable[..., Assistant],
    embedder: HashingEmbedder,
    kb_store: InMemoryStore,
) -> Iterator[Site]:
    model = PausingModel()
    services = fake_services(
        database,
        model=model,
        make_assistant=lambda m: make_assistant(m, answer_prompt="answer@5"),
        embedder=embedder,
        kb_store=kb_store,
    )
    with serve(create_app(services=services, settings=Settings())) as url:
        yield Site(url, grant(database), model, database)
        model.resume.set()


def key(site: Site, who: str) -> str:
    return site.keys[who]["Authorization"].removeprefix("Bearer ")


def start_chatting(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/chat")
    page.fill("#key", key(site, "cust-a"))
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("customer-name")).to_have_text("cust-a")
    page.get_by_test_id("start").click()
    expect(page).to_have_url(re.compile(r"/chat/conversations/[0-9a-f]+$"))


def conversation_id(page: Page) -> str:
    return page.url.split("?")[0].rsplit("/", 1)[-1]


def ask(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.get_by_test_id("send").click()


def test_a_customer_sees_the_answer_stream_with_links_and_opens_an_article(site: Site) -> None:
    shots = screenshot_dir()
    with chromium_page(viewport=(1000, 760)) as page:
        start_chatting(page, site)
        site.model.enqueue(f"{FIRST} {SECOND}")
        ask(page, "How much does an Instant Pay cash-out cost?")
        sentences = page.get_by_test_id("sentence")
        expect(sentences).to_have_count(1)  # the first sentence, while the model still writes
        expect(sentences).to_contain_text(["Each Instant Pay cash-out costs $0.85."])
        expect(page.get_by_test_id("status")).to_have_text("Writing an answer…")
        page.screenshot(path=shots / "chat-streaming.png", full_page=True)
        site.model.resume.set()
        expect(sentences).to_have_count(2)
        expect(page.get_by_test_id("status")).to_have_text("")
        reply = page.get_by_test_id("message-assistant")
        expect(reply).to_have_attribute("data-message-id", re.compile(r"^[0-9a-f]+$"))
        link = sentences.first.get_by_test_id("citation")
        expect(link).to_have_text("Instant Pay for couriers")
        expect(link).to_have_attribute("href", "/chat/articles/pay-002")
        page.screenshot(path=shots / "chat-answer.png", full_page=True)

        with page.context.expect_page() as opened:
            link.click()
        article = opened.value
        expect(article.get_by_test_id("article-title")).to_have_text("Instant Pay for couriers")
        expect(article.get_by_test_id("article")).to_contain_text("costs $0.85")
        article.screenshot(path=shots / "chat-article.png", full_page=True)

        # thumbs down, with a comment: the page comes back with the stored conversation (the
        # answer, its sources as links) and the rating
        reply.get_by_text("Add a comment").click()
        reply.get_by_label("Comment (optional)").fill("I wanted to know the daily limit first.")
        reply.get_by_test_id("thumbs-down").click()
        expect(page.get_by_test_id("notice")).to_have_text("Thank you: your feedback was saved.")
        reply = page.get_by_test_id("message-assistant")
        expect(reply).to_contain_text("costs $0.85")
        expect(reply.get_by_test_id("citation")).to_have_attribute("href", "/chat/articles/pay-002")
        expect(reply.get_by_test_id("thumbs-down")).to_have_attribute("aria-pressed", "true")
        page.screenshot(path=shots / "chat-feedback.png", full_page=True)
        feedback = site.database.conversations.get(conversation_id(page)).messages[1].feedback
        assert feedback is not None and feedback.rating == "down"
        assert feedback.comment == "I wanted to know the daily limit first."


def test_a_withheld_answer_hands_over_and_the_agents_reply_appears(site: Site) -> None:
    shots = screenshot_dir()
    site.model.resume.set()
    with chromium_page(viewport=(1000, 760)) as page:
        start_chatting(page, site)
        site.model.enqueue(WITHHELD, "0.12")  # the answer, then the judge: 12% supported
        ask(page, "How long do I have to ask for a refund?")
        handoff = page.get_by_test_id("handoff")
        expect(handoff).to_contain_text("A person will follow up here shortly.")
        expect(page.get_by_test_id("transcript")).not_to_contain_text("Loyal customers")
        page.screenshot(path=shots / "chat-handoff.png", full_page=True)

        case = site.database.escalations.page(limit=1).items[0]
        console = page.context.new_page()
        console.goto(f"{site.url}/console/login")
        console.fill("#key", key(site, "alice"))
        console.click("button[type=submit]")
        console.goto(f"{site.url}/console/cases/{case.id}")
        console.get_by_test_id("claim").click()
        console.fill("#reply", AGENT_REPLY)
        console.get_by_test_id("send-reply").click()
        expect(console.get_by_test_id("notice")).to_contain_text("Reply sent")
        console.close()

        started = time.monotonic()
        agent = page.get_by_test_id("message-agent")
        expect(agent).to_contain_text(AGENT_REPLY)  # polled: no reload
        expect(agent).to_contain_text("Support team")
        assert time.monotonic() - started < 10
        page.screenshot(path=shots / "chat-agent-reply.png", full_page=True)
        page.reload()
        expect(page.get_by_test_id("handoff")).to_be_visible()
        expect(page.get_by_test_id("message-agent")).to_contain_text(AGENT_REPLY)
