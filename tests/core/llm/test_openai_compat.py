import json
import math

import httpx
import openai
import pytest

from core.errors import LLMError
from core.llm.base import ChatMessage
from core.llm.openai_compat import OpenAICompatModel


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


def logprob_reply(top: list[tuple[str, float]]) -> dict[str, object]:
    first = {"token": top[0][0], "logprob": top[0][1], "bytes": None}
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": top[0][0]},
                "logprobs": {
                    "content": [
                        {
                            **first,
                            "top_logprobs": [
                                {"token": t, "logprob": lp, "bytes": None} for t, lp in top
                            ],
                        }
                    ]
                },
            }
        ],
    }


def test_option_probabilities_come_from_the_first_tokens_logprobs() -> None:
    seen: list[dict[str, object]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        top = [("Yes", math.log(0.6)), (" yes", math.log(0.1)), ("No", math.log(0.1))]
        return httpx.Response(200, json=logprob_reply([*top, ("Maybe", math.log(0.2))]))

    probabilities = model_with(httpx.MockTransport(handle)).option_probabilities(
        [ChatMessage(role="user", content="ok?")], ("Yes", "No")
    )
    assert probabilities == pytest.approx({"Yes": 0.875, "No": 0.125})  # 0.7 and 0.1 of 0.8
    assert (seen[0]["max_tokens"], seen[0]["logprobs"], seen[0]["top_logprobs"]) == (1, True, 20)


def test_an_endpoint_without_logprobs_or_options_is_an_llm_error() -> None:
    def without(request: httpx.Request) -> httpx.Response:
        reply = logprob_reply([("Yes", 0.0)])
        reply["choices"][0]["logprobs"] = None  # type: ignore[index]
        return httpx.Response(200, json=reply)

    ask = [ChatMessage(role="user", content="ok?")]
    with pytest.raises(LLMError, match="no logprobs"):
        model_with(httpx.MockTransport(without)).option_probabilities(ask, ("Yes", "No"))
    elsewhere = httpx.MockTransport(
        lambda r: httpx.Response(200, json=logprob_reply([("Hm", 0.0)]))
    )
    with pytest.raises(LLMError, match="none of the options"):
        model_with(elsewhere).option_probabilities(ask, ("Yes", "No"))
