import math

import pytest

from assistant.pipeline import stages
from assistant.pipeline.rerank import CONTEXT, rerank, view
from assistant.pipeline.settings import PipelineSettings
from core.embeddings import HashingEmbedder
from core.errors import LLMError
from core.llm.base import ChatModel
from core.llm.fake import FakeChatModel
from guardrails.verdict import ReasonCode, Verdict
from tests.conftest import make_passage

QUESTION = "How can I open my email?"
REMOVE = make_passage(
    "mail-remove",
    "To remove an account, select Settings. Choose the account. Select Remove.",
    title="Removing an email account",
)
OPEN = make_passage(
    "mail-open",
    "To open your email, select the Mail app. Your inbox opens.",
    title="Opening email",
)
COLOUR = make_passage(
    "folder-colour", "Folders can be given a colour in Settings.", title="Folder colours"
)


class Mute(FakeChatModel):
    """A backend that gives no prompt logprobs (the seam's default)."""

    def continuation_logprob(self, context: str, continuation: str) -> float:
        return ChatModel.continuation_logprob(self, context, continuation)


def ranked(*passages: object, depth: int = 4, model: FakeChatModel | None = None) -> list[str]:
    found = rerank(
        list(passages),  # type: ignore[arg-type]
        QUESTION,
        model=model or FakeChatModel(),
        embedder=HashingEmbedder(),
        depth=depth,
        sentences=3,
    )
    return [p.article_id for p in found.passages]


def test_the_passage_that_makes_the_question_likely_comes_first() -> None:
    assert ranked(REMOVE, COLOUR, OPEN) == ["mail-open", "mail-remove", "folder-colour"]


def test_the_model_reads_each_passage_s_title_and_nearest_sentences_then_the_question() -> None:
    model = FakeChatModel()
    rerank([REMOVE, OPEN], QUESTION, model=model, embedder=HashingEmbedder(), depth=4, sentences=1)
    contexts = [context for context, _ in model.scored]
    assert [continuation for _, continuation in model.scored] == [" " + QUESTION] * 2
    shown = view(OPEN, QUESTION, HashingEmbedder(), sentences=1)
    assert contexts[1] == CONTEXT.format(passage=shown)
    assert contexts[1].startswith("Passage: Opening email. ")
    assert contexts[0].splitlines()[0].count(".") == 2  # the title and one sentence of three


def test_only_the_first_depth_passages_are_scored_and_the_rest_keep_their_order() -> None:
    model = FakeChatModel()
    order = ranked(REMOVE, COLOUR, OPEN, depth=2, model=model)
    assert order == ["mail-remove", "folder-colour", "mail-open"]
    assert len(model.scored) == 2


def test_the_confidence_is_the_first_passage_s_share_of_the_likelihood() -> None:
    found = rerank(
        [REMOVE, OPEN],
        QUESTION,
        model=FakeChatModel(),
        embedder=HashingEmbedder(),
        depth=4,
        sentences=3,
    )
    shares = [math.exp(s) for s in found.scores]
    assert found.scores[0] > found.scores[1]
    assert math.isclose(found.confidence, shares[0] / sum(shares))
    assert 0.5 < found.confidence < 1.0


def test_one_passage_is_not_scored() -> None:
    model = FakeChatModel()
    assert ranked(OPEN, model=model) == ["mail-open"]
    assert model.scored == []


def test_a_model_that_cannot_score_leaves_the_retrieval_order() -> None:
    found = rerank(
        [REMOVE, OPEN], QUESTION, model=Mute(), embedder=HashingEmbedder(), depth=4, sentences=3
    )
    assert [p.article_id for p in found.passages] == ["mail-remove", "mail-open"]
    assert found.fallback


def stage(settings: PipelineSettings, model: ChatModel | None = None) -> list[str] | Verdict:
    found = stages.rerank(
        [REMOVE, COLOUR, OPEN],
        QUESTION,
        model=model or FakeChatModel(),
        embedder=HashingEmbedder(),
        settings=settings,
    )
    return found if isinstance(found, Verdict) else [p.article_id for p in found]


def test_the_stage_keeps_every_section_of_the_first_articles_of_the_new_order() -> None:
    inbox = make_passage(
        "mail-open", "Folders list your mail.", title="Opening email", section="Folders"
    )
    found = stages.rerank(
        [REMOVE, inbox, COLOUR, OPEN],
        QUESTION,
        model=FakeChatModel(),
        embedder=HashingEmbedder(),
        settings=PipelineSettings(rerank="likelihood", rerank_keep=1),
    )
    assert isinstance(found, list)
    assert [(p.article_id, p.chunk.section) for p in found] == [
        ("mail-open", ""),
        ("mail-open", "Folders"),
    ]
    assert stage(PipelineSettings(rerank="likelihood", rerank_keep=2)) == [
        "mail-open",
        "mail-remove",
    ]


def test_a_question_no_passage_clearly_prompts_goes_to_a_person() -> None:
    found = stage(PipelineSettings(rerank="likelihood", rerank_confidence=0.99))
    assert isinstance(found, Verdict)
    assert found.reasons == [ReasonCode.OFF_QUESTION]
    assert "best share" in found.detail


def test_a_model_that_cannot_score_keeps_every_passage_and_is_not_held_to_the_confidence() -> None:
    settings = PipelineSettings(rerank="likelihood", rerank_keep=1, rerank_confidence=0.99)
    assert stage(settings, Mute()) == ["mail-remove", "folder-colour", "mail-open"]


def test_the_seam_s_default_is_an_llm_error() -> None:
    with pytest.raises(LLMError, match="cannot score"):
        Mute().continuation_logprob("Passage: a", " b")
