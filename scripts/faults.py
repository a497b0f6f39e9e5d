"""Load with faults: a real `tether serve` (SQLite, embedded Chroma) in front of the fake
OpenAI-compatible model, many customers at once, while the model fails in turn in every way a
real endpoint fails; then every stored customer message is checked for a reply.

    python scripts/faults.py [--clients 20] [--phase-seconds 30] [--delay 1.5]

Phases, in order: ok, hang (the model never answers), ok, error (HTTP 500), malformed JSON,
empty replies, killed (the model process is stopped, then started again), ok. The figures are
the status codes the customers saw (a 500 is an error; 503 and 429 are documented refusals),
and the messages lost: customer messages with neither a reply nor a case after the run. The
last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from load import QUESTIONS  # noqa: E402

PHASES = ("ok", "hang", "ok", "error", "malformed", "empty", "killed", "ok")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 120) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


class FakeModel:
    """The fake endpoint's process: switched between modes, killed and started again."""

    def __init__(self, port: int, delay: float) -> None:
        self.port, self.delay = port, delay
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        script = ROOT / "scripts" / "fake_openai.py"
        args = [sys.executable, str(script), "--port", str(self.port), "--delay", str(self.delay)]
        process = subprocess.Popen(args)
        wait_for(f"http://127.0.0.1:{self.port}/v1/models")
        return process

    def set_phase(self, phase: str) -> None:
        if phase == "killed":
            self.stop()
            time.sleep(5)  # five seconds with no model at all
            self.process = self._start()
            return
        httpx.post(f"http://127.0.0.1:{self.port}/mode", json={"mode": phase}, timeout=5)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


async def customer(
    client: httpx.AsyncClient, n: int, stop: asyncio.Event, seen: Counter[str]
) -> None:
    cid = (await client.post("/v1/conversations", json={})).json()["id"]
    i = n
    while not stop.is_set():
        try:
            response = await client.post(
                f"/v1/conversations/{cid}/messages", json={"text": QUESTIONS[i % len(QUESTIONS)]}
            )
        except httpx.HTTPError as exc:
            seen[type(exc).__name__] += 1
            continue
        seen[str(response.status_code)] += 1
        i += 1
        if response.status_code in (429, 503):
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))


async def faults(
    base_url: str, key: str, clients: int, phase_s: float, model: FakeModel
) -> Counter[str]:
    seen: Counter[str] = Counter()
    stop = asyncio.Event()
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=120, limits=limits
    ) as client:
        tasks = [asyncio.create_task(customer(client, n, stop, seen)) for n in range(clients)]
        for phase in PHASES:
            print(f"phase {phase} ({phase_s:.0f} s); seen so far {dict(seen)}", flush=True)
            await asyncio.to_thread(model.set_phase, phase)
            await asyncio.sleep(phase_s)
        stop.set()
        await asyncio.gather(*tasks)
    return seen


def lost_messages(database: Path) -> tuple[int, int]:
    """(customer messages stored, those with neither a reply after them nor a case)."""
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT count(*) FROM messages WHERE role = 'customer'").fetchone()[0]
        lost = db.execute(
            """
            SELECT count(*) FROM messages m
            WHERE m.role = 'customer'
              AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.conversation_id = m.conversation_id
                              AND r.seq > m.seq AND r.role = 'assistant')
              AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.message_id = m.id)
            """
        ).fetchone()[0]
    return int(stored), int(lost)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--phase-seconds", type=float, default=30)
    parser.add_argument("--delay", type=float, default=1.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_port, port = free_port(), free_port()
        env = {
            **os.environ,
            "TETHER_DATA_DIR": tmp,
            "TETHER_LLM_BACKEND": "openai",
            "TETHER_OPENAI_BASE_URL": f"http://127.0.0.1:{model_port}/v1",
            "TETHER_OPENAI_MODEL": "fake",
            "TETHER_LLM_TIMEOUT_S": "5",
        }
        tether = str(Path(sys.executable).with_name("tether"))
        key = subprocess.run(
            [tether, "keys", "create", "faults", "--role", "customer"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        model = FakeModel(model_port, args.delay)
        server = subprocess.Popen(
            [tether, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz", 300)
            started = time.monotonic()
            seen = asyncio.run(
                faults(f"http://127.0.0.1:{port}", key, args.clients, args.phase_seconds, model)
            )
            elapsed = time.monotonic() - started
        finally:
            server.terminate()
            server.wait(30)
            model.stop()
        stored, lost = lost_messages(Path(tmp) / "tether.db")
    errors = sum(v for k, v in seen.items() if k not in ("200", "429", "503"))
    figures = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "phases": list(PHASES),
        "status": dict(sorted(seen.items())),
        "errors": errors,
        "customer_messages_stored": stored,
        "lost_messages": lost,
    }
    for name, value in figures.items():
        print(f"{name:>24}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
