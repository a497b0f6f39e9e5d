"""A fake OpenAI-compatible chat endpoint for load and fault runs: answers every chat
completion after ``--delay`` seconds with the first excerpt sentence of its prompt (so the
checks pass it), and can be switched at run time to fail in the ways a real endpoint fails.

    python scripts/fake_openai.py --port 9100 --delay 1.5
    curl -X POST localhost:9100/mode -d '{"mode": "hang"}'     # ok, hang, error, malformed, empty

Point Tether at it with TETHER_LLM_BACKEND=openai TETHER_OPENAI_BASE_URL=http://127.0.0.1:9100/v1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

MODES = ("ok", "hang", "error", "malformed", "empty")


def extractive(system: str) -> bool:
    """Whether the prompt shows numbered sentences and asks for their numbers (answer@8, @9)."""
    return "numbered" in system and ("SENTENCES:" in system or "only the numbers" in system)


def answer_for(prompt: str, json_mode: bool = False, system: str = "") -> str:
    """The first excerpt sentence of the prompt, citing its article: as plain text, or as the
    JSON answer prompts' object when the call asks for JSON; for an extractive prompt, the
    number of its first sentence."""
    if extractive(system):
        return "SENTENCES: 1" if "SENTENCES:" in system else "1"
    article = re.search(r"\[([A-Za-z0-9][\w.-]*)\]", prompt)
    lines = [line for line in prompt.splitlines()[1:] if line.strip() and not line.startswith("[")]
    first = lines[0].strip() if lines else "Yes."
    if json_mode:
        cited = [article[1]] if article else []
        reply = {"reasoning": "The excerpt says so.", "answerable": True, "answer": first}
        return json.dumps({**reply, "citations": cited})
    return f"{first} [{article[1]}]" if article else first


async def _chunks(text: str, call: int) -> AsyncIterator[str]:
    """The reply as OpenAI's streaming chunks, a word at a time, then the usage and [DONE]."""
    head = {"id": f"fake-{call}", "object": "chat.completion.chunk", "created": 0, "model": "fake"}
    for piece in re.findall(r"\s*\S+", text):
        choice = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
        yield f"data: {json.dumps({**head, 'choices': [choice]})}\n\n"
        await asyncio.sleep(0)
    usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    yield f"data: {json.dumps({**head, 'choices': [], 'usage': usage})}\n\n"
    yield "data: [DONE]\n\n"


def create_app(delay: float) -> FastAPI:
    app = FastAPI()
    state: dict[str, Any] = {"mode": "ok", "delay": delay, "calls": 0}

    @app.post("/mode")
    async def mode(request: Request) -> dict[str, Any]:
        body = await request.json()
        if body.get("mode") in MODES:
            state["mode"] = body["mode"]
        if "delay" in body:
            state["delay"] = float(body["delay"])
        return state

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        if state["mode"] == "hang":
            await asyncio.sleep(3600)
        return {"object": "list", "data": [{"id": "fake", "object": "model"}]}

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> JSONResponse:
        body = await request.json()
        state["calls"] += 1
        await asyncio.sleep(state["delay"])
        if state["mode"] == "hang":
            await asyncio.sleep(3600)
        if state["mode"] == "error":
            return JSONResponse(status_code=500, content={"error": {"message": "boom"}})
        prompt = body["messages"][-1]["content"]
        system = body["messages"][0]["content"] if len(body["messages"]) > 1 else ""
        json_mode = (body.get("response_format") or {}).get("type") == "json_object"
        text = {"malformed": "{not json", "empty": ""}.get(
            state["mode"], answer_for(prompt, json_mode, system)
        )
        # A one-token read of the options: "Yes" to a judge; the first sentence's number, with
        # little chance of "none", to an extractive prompt.
        first = "1" if extractive(system) else "Yes"
        if body.get("max_tokens") == 1 and body.get("logprobs"):
            text = first
        if body.get("stream"):
            return StreamingResponse(_chunks(text, state["calls"]), media_type="text/event-stream")
        choice: dict[str, Any] = {
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": text},
        }
        if body.get("logprobs"):
            top = [{"token": first, "logprob": -0.05, "bytes": None}]
            top += [{"token": "none", "logprob": -4.0, "bytes": None}] if first == "1" else []
            choice["logprobs"] = {
                "content": [{"token": first, "logprob": -0.05, "bytes": None, "top_logprobs": top}]
            }
        return JSONResponse(
            {
                "id": f"fake-{state['calls']}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": "fake",
                "choices": [choice],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
            }
        )

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--delay", type=float, default=1.5)
    args = parser.parse_args()
    uvicorn.run(create_app(args.delay), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
