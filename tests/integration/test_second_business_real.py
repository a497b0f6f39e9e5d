"""The second business on the real embedded stack: the TV maker's profile (profiles/tv-maker, the
e-manual beside the checkout) with MiniLM, Chroma on disk, SQLite and the GGUF model. Its
question is answered from a manual article or handed over with the TV maker's own message, and
nothing the model read or the customer got names the sample's business."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.storage import Database
from assistant.wiring import assemble
from core.embeddings import MiniLMEmbedder
from core.languages import Language
from core.llm.base import ChatMessage, ChatModel, Completion, TextSink
from core.llm.llama_cpp import LlamaCppModel
from knowledge_base.articles import load_articles
from knowledge_base.ingest import ingest
from knowledge_base.store import ChromaStore

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "profiles" / "tv-maker"
EMANUAL = ROOT.parent / "shared" / "data" / "emanual"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (EMANUAL / "articles.jsonl").is_file(),
        reason="the e-manual is not beside the checkout (../shared/data/emanual)",
    ),
]


class Recording(ChatModel):
    """The real model, with every prompt it was given kept."""

    def __init__(self, model: ChatModel) -> None:
        self.model, self.prompts = model, list[str]()

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        json_mode: bool = False,
        on_text: TextSink | None = None,
    ) -> Completion:
        self.prompts.extend(m.content for m in messages)
        return self.model.complete(
            messages, max_tokens=max_tokens, json_mode=json_mode, on_text=on_text
        )

    def option_probabilities(
        self, messages: Sequence[ChatMessage], options: Sequence[str]
    ) -> dict[str, float]:
        self.prompts.extend(m.content for m in messages)
        return self.model.option_probabilities(messages, options)


def test_the_tv_maker_answers_from_its_manual_on_the_real_stack(
    tmp_path: Path, llama: LlamaCppModel, minilm: MiniLMEmbedder
) -> None:
    settings = Settings(profile=PROFILE, data_dir=tmp_path)
    articles = load_articles(settings.kb_path)
    store = ChromaStore.persistent(tmp_path / "chroma", "tv-maker")
    ingest(articles, store=store, embedder=minilm, progress=False)
    model = Recording(llama)
    services = assemble(
        settings,
        model=model,
        embedder=minilm,
        vector_store=store,
        database=Database.connect(settings.resolved_database_url),
    )
    chat = services.chat
    outcome = chat.post_message(
        chat.database.conversations.create().id, "How do I change the picture size on my TV?"
    )

    reply = outcome.reply
    ids = {a.id for a in articles}
    if reply.answered:
        assert reply.citations and {c.article_id for c in reply.citations} <= ids
    else:
        assert reply.text.endswith(services.assistant.messages(Language.EN).handoff)
        assert outcome.escalation_id is not None
    assert {p.article_id for p in reply.passages} <= ids
    assert any("Vireo TV" in p for p in model.prompts)
    assert all("Hoppa" not in text for text in [*model.prompts, reply.text])
