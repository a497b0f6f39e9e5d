import math

import pytest

from core.errors import LLMError
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel

HI = [ChatMessage(role="user", content="hi there")]


def test_queued_replies_come_first_then_the_responder() -> None:
    model = FakeChatModel(responder=lambda messages: f"echo {messages[-1].content}").enqueue("one")
    assert model.complete(HI).text == "one"
    assert model.complete(HI).text == "echo hi there"
    assert len(model.calls) == 2


def test_a_queued_exception_is_raised_and_an_empty_queue_is_an_llm_error() -> None:
    model = FakeChatModel().enqueue(LLMError("outage"))
    with pytest.raises(LLMError, match="outage"):
        model.complete(HI)
    with pytest.raises(LLMError, match="no reply queued"):
        model.complete(HI)


def test_option_probabilities_follow_the_reply_the_call_would_get() -> None:
    ask = [ChatMessage(role="user", content="ok?")]
    model = FakeChatModel().enqueue("No.", "0.8", "perhaps")
    assert model.option_probabilities(ask, ("Yes", "No")) == {"Yes": 0.0, "No": 1.0}
    assert model.option_probabilities(ask, ("Yes", "No")) == pytest.approx({"Yes": 0.8, "No": 0.2})
    with pytest.raises(LLMError, match="none of the options"):
        model.option_probabilities(ask, ("Yes", "No"))
    assert len(model.calls) == 3


def test_a_continuation_is_as_likely_as_the_share_of_its_words_the_context_holds() -> None:
    model = FakeChatModel()
    held = model.continuation_logprob("Passage: open the mail app", " open mail")
    half = model.continuation_logprob("Passage: open the mail app", " open folders")
    none = model.continuation_logprob("Passage: open the mail app", " paint folders")
    assert held == pytest.approx(0.0)
    assert held > half > none == pytest.approx(math.log(0.05))
    assert model.scored[0] == ("Passage: open the mail app", " open mail")
