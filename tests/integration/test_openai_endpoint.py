"""The OpenAI adapter against a real OpenAI-compatible server on loopback (llama.cpp's server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.settings import Settings
from assistant.wiring import build_model
from core.conversation import Turn
from core.errors import LLMError
from core.llm.base import ChatMessage
from core.llm.llama_cpp import LlamaCppModel
from core.llm.openai_compat import OpenAICompatModel
from guardrails.verdict import ReasonCode
from tests.integration.conftest import (
    PYTHON,
    SETTINGS,
    AssistantFactory,
    free_port,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = free_port()
    process = start_server(
        [
            PYTHON,
            "-m",
            "llama_cpp.server",
            "--model",
            str(SETTINGS.llm_model_path),
            "--model_alias",
            "tether-local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--n_threads",
            "2",
        ],
        f"http://127.0.0.1:{port}/v1/models",
    )
    yield f"http://127.0.0.1:{port}/v1"
    stop_server(process)


def openai_settings(base_url: str) -> Settings:
    # The product's 20 s timeout is for a real endpoint; a llama.cpp server on two shared cores
    # can take longer for one answer, and this test is about the path, not the speed.
    return Settings(
        llm_backend="openai",
        openai_base_url=base_url,
        openai_model="tether-local",
        llm_timeout_s=300,
    )


def test_settings_select_the_openai_adapter_and_it_completes_json(endpoint: str) -> None:
    model = build_model(openai_settings(endpoint))
    assert isinstance(model, OpenAICompatModel)
    assert model.is_ready()
    completion = model.complete(
        [ChatMessage(role="user", content='Reply with {"ok": true} and nothing else.')],
        max_tokens=20,
        json_mode=True,
    )
    assert '"ok"' in completion.text
    assert completion.completion_tokens > 0


YES_NO = ("Yes", "No")


def ask(question: str) -> list[ChatMessage]:
    return [
        ChatMessage(role="system", content="Answer with one word: Yes or No."),
        ChatMessage(role="user", content=f"{question} Answer Yes or No."),
    ]


def test_the_endpoint_and_the_embedded_model_give_the_same_option_probabilities(
    endpoint: str, llama: LlamaCppModel
) -> None:
    remote = build_model(openai_settings(endpoint))
    for question, likely in [("Is Paris the capital of France?", "Yes"), ("Is fire cold?", "No")]:
        over_http = remote.option_probabilities(ask(question), YES_NO)
        in_process = llama.option_probabilities(ask(question), YES_NO)
        assert over_http[likely] > 0.5, (question, over_http)  # the small model is unsure on "No"
        assert over_http["Yes"] == pytest.approx(in_process["Yes"], abs=0.05), question


def test_the_message_path_answers_through_the_endpoint(
    endpoint: str, sample_assistant: AssistantFactory
) -> None:
    assistant = sample_assistant(build_model(openai_settings(endpoint)))
    reply = assistant.respond(
        [Turn(role="customer", text="How much does Instant Pay charge each time I cash out?")]
    )
    assert reply.answered, reply.verdict
    assert "0.85" in reply.text


def test_an_unreachable_endpoint_escalates_with_llm_error(
    sample_assistant: AssistantFactory,
) -> None:
    dead = build_model(openai_settings(f"http://127.0.0.1:{free_port()}/v1"))
    assert not dead.is_ready()
    with pytest.raises(LLMError):
        dead.complete([ChatMessage(role="user", content="hi")], max_tokens=5)
    reply = sample_assistant(dead).respond(
        [Turn(role="customer", text="How much does Instant Pay cost?")]
    )
    assert reply.verdict.reasons == [ReasonCode.LLM_ERROR]
