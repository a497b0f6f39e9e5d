"""Load a running Tether with many customers at once, and watch /healthz meanwhile.

    python scripts/load.py --base-url http://127.0.0.1:8000 --key tth_... --clients 50 --seconds 300

Each client sends questions from the sample set one after another, in a new conversation every
`--per-conversation` messages; a separate poller asks /healthz every 100 ms. Prints the status
codes seen, the latency of accepted messages (p50/p95/p99), throughput, and /healthz p99; the
last line is one JSON object.
Documented refusals (503 with Retry-After when every place is taken, 429 when a limit is hit)
are counted apart from errors; a client told to retry waits as told.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

QUESTIONS = [
    json.loads(line).get("question")
    for line in (Path(__file__).resolve().parents[1] / "knowledge_base/sample/questions.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]
QUESTIONS = [q for q in QUESTIONS if q]


async def customer(
    client: httpx.AsyncClient,
    n: int,
    running: Callable[[], bool],
    seen: Counter[str],
    took: list[float],
    per_conversation: int = 5,
) -> None:
    """One customer: questions one after another, a new conversation every ``per_conversation``
    messages (a chat is a few messages, not hundreds); waits as told on 429 and 503. Status codes
    (and transport errors by name) go into ``seen``, accepted messages' seconds into ``took``."""
    i, cid, sent = n, "", 0
    while running():
        if not cid or sent >= per_conversation:
            try:
                opened = await client.post("/v1/conversations", json={})
            except httpx.HTTPError as exc:
                seen[type(exc).__name__] += 1
                await asyncio.sleep(1)
                continue
            if opened.status_code != 201:
                seen[str(opened.status_code)] += 1
                await asyncio.sleep(float(opened.headers.get("retry-after", "1")))
                continue
            cid, sent = opened.json()["id"], 0
        start = time.monotonic()
        try:
            response = await client.post(
                f"/v1/conversations/{cid}/messages", json={"text": QUESTIONS[i % len(QUESTIONS)]}
            )
        except httpx.HTTPError as exc:
            seen[type(exc).__name__] += 1
            continue
        seen[str(response.status_code)] += 1
        i, sent = i + 1, sent + 1
        if response.status_code == 200:
            took.append(time.monotonic() - start)
        elif response.status_code in (429, 503):
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))


async def poll_health(client: httpx.AsyncClient, until: float, took: list[float]) -> None:
    while time.monotonic() < until:
        start = time.monotonic()
        try:
            await client.get("/healthz", timeout=30)
            took.append(time.monotonic() - start)
        except httpx.HTTPError:
            took.append(30.0)
        await asyncio.sleep(0.1)


def _p(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


async def run(
    base_url: str, key: str, clients: int, seconds: float, per_conversation: int = 5
) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=300, limits=limits
    ) as client:
        until = time.monotonic() + seconds
        seen: Counter[str] = Counter()
        took: list[float] = []
        health: list[float] = []
        started = time.monotonic()
        await asyncio.gather(
            poll_health(client, until, health),
            *(
                customer(client, n, lambda: time.monotonic() < until, seen, took, per_conversation)
                for n in range(clients)
            ),
        )
        elapsed = time.monotonic() - started
    errors = sum(v for k, v in seen.items() if k not in ("200", "429", "503"))
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "status": dict(sorted(seen.items())),
        "errors": errors,
        "answered": len(took),
        "messages_per_s": round(len(took) / elapsed, 2),
        "latency_p50_s": _p(took, 50),
        "latency_p95_s": _p(took, 95),
        "latency_p99_s": _p(took, 99),
        "healthz_p99_s": _p(health, 99),
        "healthz_max_s": round(max(health), 3) if health else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--per-conversation", type=int, default=5)
    args = parser.parse_args()
    figures = asyncio.run(
        run(args.base_url, args.key, args.clients, args.seconds, args.per_conversation)
    )
    for name, value in figures.items():
        print(f"{name:>16}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
