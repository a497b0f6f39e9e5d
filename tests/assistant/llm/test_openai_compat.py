import json

import httpx
import openai
import pytest

from assistant.errors import LLMError
from assistant.llm.base import ChatMessage
from assistant.llm.openai_compat import OpenAICompatModel


def model_with(handler: httpx.MockTransport) -> OpenAICompatModel:
    client = openai.OpenAI(
        base_url="http://llm.test/v1",
        api_key="k",
        max_retries=0,
        http_client=httpx.Client(transport=handler),
    )
    return OpenAICompatModel(client, model="m", seed=7)


def test_sends_temperature_zero_seed_and_json_mode_and_reads_usage() -> None:
    seen: list[dict[str, object]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(
            200,
            json={
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": '{"a": 1}'},
                    }
                ],
                "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
            },
        )

    completion = model_with(httpx.MockTransport(handle)).complete(
        [ChatMessage(role="user", content="hi")], max_tokens=9, json_mode=True
    )
    assert completion.text == '{"a": 1}'
    assert (completion.prompt_tokens, completion.completion_tokens) == (11, 3)
    assert seen[0]["temperature"] == 0.0
    assert seen[0]["seed"] == 7
    assert seen[0]["max_tokens"] == 9
    assert seen[0]["response_format"] == {"type": "json_object"}


def test_http_failures_become_llm_errors_and_readiness_is_false() -> None:
    model = model_with(httpx.MockTransport(lambda r: httpx.Response(500, json={"error": "down"})))
    with pytest.raises(LLMError, match="OpenAI-compatible endpoint failed"):
        model.complete([ChatMessage(role="user", content="hi")])
    assert model.is_ready() is False
