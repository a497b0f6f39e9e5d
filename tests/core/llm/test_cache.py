from pathlib import Path

import pytest

from core.errors import LLMError
from core.llm.base import ChatMessage
from core.llm.cache import CachingChatModel
from core.llm.fake import FakeChatModel

ASK = [ChatMessage(role="user", content="hi")]


def test_a_repeated_request_is_answered_from_the_cache_even_after_reopening(
    tmp_path: Path,
) -> None:
    inner = FakeChatModel().enqueue("one", "two")
    cached = CachingChatModel(inner, tmp_path / "c.sqlite")
    assert cached.complete(ASK).text == "one"
    assert cached.complete(ASK).text == "one"
    assert (cached.counts(), len(inner.calls)) == ({"cache_hits": 1, "model_calls": 1}, 1)
    cached.close()
    again = CachingChatModel(FakeChatModel(), tmp_path / "c.sqlite")
    assert again.complete(ASK).text == "one"
    again.close()


def test_the_key_covers_the_request_and_the_namespace(tmp_path: Path) -> None:
    inner = FakeChatModel().enqueue("a", "b", "c", "d")
    cached = CachingChatModel(inner, tmp_path / "c.sqlite")
    cached.complete(ASK)
    cached.complete(ASK, max_tokens=10)
    cached.complete(ASK, json_mode=True)
    cached.complete([ChatMessage(role="user", content="hi!")])
    assert cached.counts()["model_calls"] == 4
    repeat = cached.with_namespace("repeat-1")
    inner.enqueue("e")
    assert repeat.complete(ASK).text == "e"
    assert cached.complete(ASK).text == "a"
    cached.close()


def test_failures_are_not_cached(tmp_path: Path) -> None:
    inner = FakeChatModel().enqueue(LLMError("down"), "fine")
    cached = CachingChatModel(inner, tmp_path / "c.sqlite")
    with pytest.raises(LLMError):
        cached.complete(ASK)
    assert cached.complete(ASK).text == "fine"
    cached.close()


def test_option_probabilities_are_cached_apart_from_completions(tmp_path: Path) -> None:
    inner = FakeChatModel().enqueue("Yes", "0.3")
    cached = CachingChatModel(inner, tmp_path / "c.sqlite")
    assert cached.option_probabilities(ASK, ("Yes", "No")) == {"Yes": 1.0, "No": 0.0}
    assert cached.option_probabilities(ASK, ("Yes", "No")) == {"Yes": 1.0, "No": 0.0}
    assert cached.complete(ASK).text == "0.3"  # same messages, a completion: its own key
    assert (cached.counts(), len(inner.calls)) == ({"cache_hits": 1, "model_calls": 2}, 2)
    cached.close()


def test_namespaces_count_their_hits_and_misses_together(tmp_path: Path) -> None:
    # with --repeat, each repeat reads the file through its own namespace; the run's totals
    # must count them all (they undercounted when a namespace copied the counters)
    inner = FakeChatModel().enqueue("a", "b")
    cached = CachingChatModel(inner, tmp_path / "c.sqlite")
    repeat = cached.with_namespace("repeat-1")
    cached.complete(ASK)
    repeat.complete(ASK)
    repeat.complete(ASK)
    assert cached.counts() == repeat.counts() == {"cache_hits": 1, "model_calls": 2}
    cached.close()


def test_a_cached_reply_streams_whole_and_a_fresh_one_in_pieces(tmp_path: Path) -> None:
    inner = FakeChatModel().enqueue("one two three")
    cached = CachingChatModel(inner, tmp_path / "c.sqlite")
    fresh: list[str] = []
    again: list[str] = []
    assert cached.complete(ASK, on_text=fresh.append).text == "one two three"
    assert cached.complete(ASK, on_text=again.append).text == "one two three"
    assert fresh == ["one", " two", " three"] and again == ["one two three"]
    cached.close()


def test_continuation_scores_are_cached_apart_from_completions(tmp_path: Path) -> None:
    inner = FakeChatModel().enqueue("Passage: hi")
    cached = CachingChatModel(inner, tmp_path / "c.sqlite")
    first = cached.continuation_logprob("Passage: hi", " hi there")
    assert cached.continuation_logprob("Passage: hi", " hi there") == first
    assert len(inner.scored) == 1
    cached.continuation_logprob("Passage: hi", " bye")
    assert cached.complete([ChatMessage(role="user", content="Passage: hi")]).text == "Passage: hi"
    assert cached.counts() == {"cache_hits": 1, "model_calls": 3}
    cached.close()
