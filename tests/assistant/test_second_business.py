"""A second, different business end to end, on fakes: the e-manual of a TV maker
(profiles/tv-maker, reading ../shared/data/emanual) through the real wiring, the API and the
agent console. Nothing the model, the customer or an agent sees names the sample's Hoppa."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.schemas import ReplyPublic
from assistant.app import create_app
from assistant.settings import Settings
from assistant.storage import Database
from assistant.storage.keys import Role
from assistant.wiring import Services, assemble
from core.embeddings import HashingEmbedder
from core.languages import BUILTIN_HANDOFF, Language
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from knowledge_base.articles import load_articles
from knowledge_base.ingest import ingest
from knowledge_base.store import InMemoryStore
from tests.assistant.console.test_routes import log_in
from tests.conftest import FAKE_CALIBRATION, answer_json

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "profiles" / "tv-maker"
EMANUAL = ROOT.parent / "shared" / "data" / "emanual"
pytestmark = pytest.mark.skipif(
    not (EMANUAL / "articles.jsonl").is_file(),
    reason="the e-manual is not beside the checkout (../shared/data/emanual)",
)
PASSAGE = re.compile(r"^\[(?P<id>[\w.-]+)\] .*\n(?P<text>[^\n]+)", re.MULTILINE)
UNANSWERABLE = "my neighbour's dog"


def respond(messages: Sequence[ChatMessage]) -> str:
    """The answer prompt: the first sentence of the first passage, cited; "declined" for the
    question no manual answers. A judge: 0.9 (supported)."""
    user = messages[-1].content
    if '"answerable"' not in messages[0].content:
        return "0.9"
    if UNANSWERABLE in user:
        return answer_json("", [], answerable=False)
    first = PASSAGE.search(user)
    assert first is not None
    sentence = first["text"].split(". ")[0].rstrip(".") + "."
    return answer_json(sentence, [first["id"]])


@pytest.fixture
def tv(tmp_path: Path) -> Iterator[tuple[Services, FakeChatModel]]:
    settings = Settings(profile=PROFILE, data_dir=tmp_path, guardrails_calibration=FAKE_CALIBRATION)
    embedder, store, model = HashingEmbedder(), InMemoryStore(), FakeChatModel(respond)
    ingest(load_articles(settings.kb_path), store=store, embedder=embedder, progress=False)
    database = Database.connect(f"sqlite:///{tmp_path}/tether.db")
    services = assemble(
        settings, model=model, embedder=embedder, vector_store=store, database=database
    )
    yield services, model
    database.close()


def test_the_tv_maker_answers_hands_over_and_shows_its_console_without_hoppa(
    tv: tuple[Services, FakeChatModel], tmp_path: Path
) -> None:
    services, model = tv
    assert services.assistant.profile.name == "Vireo TV"
    customer = services.database.keys.create("tv-widget", Role.CUSTOMER).secret
    agent = {"Authorization": f"Bearer {services.database.keys.create('ana', Role.AGENT).secret}"}
    app = create_app(services=services, settings=Settings(profile=PROFILE, data_dir=tmp_path))
    seen: list[str] = []
    with TestClient(app, headers={"Authorization": f"Bearer {customer}"}) as client:
        cid = client.post("/v1/conversations", json={}).json()["id"]

        def ask(text: str) -> ReplyPublic:
            response = client.post(f"/v1/conversations/{cid}/messages", json={"text": text})
            reply = ReplyPublic.model_validate(response.json())
            seen.append(reply.reply.text)
            return reply

        answered = ask("How do I connect the Samsung Smart Remote to the TV?")
        assert answered.answered, answered
        assert answered.citations
        handed = ask(f"Can the TV walk {UNANSWERABLE} while I am at work?")
        assert not handed.answered
        assert handed.reply.text == services.assistant.messages(Language.EN).handoff
        assert "Vireo TV support specialist" in handed.reply.text
        german = ask("Wie kann ich die Bildgröße an meinem Fernseher ändern?")
        assert german.reply.text == services.assistant.messages(Language.DE).handoff
        assert german.reply.text.startswith("Danke fürs Warten.")
        assert german.verdict.reasons == ["unsupported_language"]
        italian = ask("Come posso cambiare la lingua del menu del televisore?")
        assert italian.reply.text == BUILTIN_HANDOFF[Language.IT]

        case = str(handed.escalation_id)
        log_in(client, agent)
        for path in ("/console", f"/console/cases/{case}", "/console/dashboard", "/console/kb"):
            page = client.get(path, headers=agent)
            assert page.status_code == 200, path
            seen.append(page.text)
        seen.append(client.get(f"/console/cases/{german.escalation_id}", headers=agent).text)

    prompts = [m.content for call in model.calls for m in call]
    assert any(
        "You are Vireo TV's support assistant for owners of its smart TVs." in p for p in prompts
    )
    messages = [services.assistant.messages(lang) for lang in Language]
    texts = [*prompts, *seen, *(f"{m.handoff} {m.decline} {m.busy}" for m in messages)]
    assert all("Hoppa" not in text for text in texts)
    assert "unsupported_language" in seen[-1]
