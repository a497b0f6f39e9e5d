"""The services' start-up warming: the knowledge base's sentences embedded in the background,
unless the knowledge base is too large for that to help."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant import wiring
from assistant.storage import Database
from core.embeddings import HashingEmbedder, Vectors
from core.llm.fake import FakeChatModel
from knowledge_base.store import InMemoryStore
from tests.assistant.api.conftest import Build, fake_services


class Counting(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        self.texts += len(texts)
        return super().embed_batch(texts)


@pytest.mark.parametrize(("limit", "warmed"), [(10_000, True), (2, False)])
def test_warming_embeds_the_knowledge_base_unless_it_is_too_large(
    monkeypatch: pytest.MonkeyPatch,
    database: Database,
    make_assistant: Build,
    kb_store: InMemoryStore,
    limit: int,
    warmed: bool,
) -> None:
    counting = Counting()
    services = fake_services(
        database,
        model=FakeChatModel(lambda _: "ok"),
        make_assistant=make_assistant,
        embedder=counting,
        kb_store=kb_store,
    )
    monkeypatch.setattr(wiring, "WARM_MAX_CHUNKS", limit)
    assert 2 < kb_store.count() <= 10_000

    services.warm().join(timeout=60)

    assert (counting.texts > kb_store.count()) is warmed


def test_the_store_opens_with_the_configured_search_breadth(tmp_path: Path) -> None:
    from assistant.settings import Settings
    from knowledge_base.store import ChromaStore

    store = wiring.build_store(Settings(data_dir=tmp_path, chroma_search_ef=300))
    assert isinstance(store, ChromaStore) and store.search_ef() == 300
