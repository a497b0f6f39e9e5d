"""Load with faults: a real `tether serve` in front of the fake OpenAI-compatible model, many
customers at once, while the model fails in turn in every way a real endpoint fails; then every
stored customer message is checked for a reply.

    python scripts/faults.py [--clients 20] [--phase-seconds 30] [--delay 1.5] [--services]

Phases, in order: ok, hang (the model never answers), ok, error (HTTP 500), malformed JSON,
empty replies, killed (the model process is stopped, then started again), ok. On the embedded
defaults (SQLite, Chroma on disk) by default; with ``--services`` on PostgreSQL and a ``chroma
run`` server, with two more phases: the Chroma server killed (started again at the end of the
phase) and PostgreSQL restarted the way a crash does (immediate stop, recovery from the WAL).
The figures are the status codes the customers saw (a 500 is an error; 503 and 429 are
documented refusals), and the messages lost: customer messages with neither a reply nor a case
after the run. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT)]

from load import customer  # noqa: E402

from tests.support.postgres import PostgresServer  # noqa: E402

PHASES = ("ok", "hang", "ok", "error", "malformed", "empty", "killed", "ok")
SERVICE_PHASES = ("chroma-killed", "ok", "postgres-restarted", "ok")


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


class Services:
    """PostgreSQL and a ``chroma run`` server, each failed on cue."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.postgres = PostgresServer.start(root)
        self.database_url = self.postgres.create_database("tether")
        self.chroma_port = free_port()
        self.chroma = self._start_chroma()

    def _start_chroma(self) -> subprocess.Popen[bytes]:
        chroma = str(Path(sys.executable).with_name("chroma"))
        args = [chroma, "run", "--path", str(self.root / "chroma"), "--host", "127.0.0.1"]
        process = subprocess.Popen(
            [*args, "--port", str(self.chroma_port)],
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(f"http://127.0.0.1:{self.chroma_port}/api/v2/heartbeat")
        return process

    def env(self) -> dict[str, str]:
        return {
            "TETHER_DATABASE_URL": self.database_url,
            "TETHER_CHROMA_MODE": "http",
            "TETHER_CHROMA_PORT": str(self.chroma_port),
        }

    def fail(self, phase: str, seconds: float) -> None:
        """Kill the Chroma server for the phase, or restart PostgreSQL as after a crash."""
        if phase == "chroma-killed":
            self.chroma.kill()
            self.chroma.wait()
            time.sleep(seconds)
            self.chroma = self._start_chroma()
        else:
            self.postgres.restart("immediate")
            time.sleep(seconds)

    def stop(self) -> None:
        self.chroma.kill()
        self.chroma.wait()
        self.postgres.stop()


async def faults(
    base_url: str,
    key: str,
    clients: int,
    phase_s: float,
    model: FakeModel,
    services: Services | None,
) -> Counter[str]:
    seen: Counter[str] = Counter()
    stop = asyncio.Event()
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=120, limits=limits
    ) as client:
        took: list[float] = []
        tasks = [
            asyncio.create_task(customer(client, n, lambda: not stop.is_set(), seen, took))
            for n in range(clients)
        ]
        for phase in PHASES + (SERVICE_PHASES if services else ()):
            print(f"phase {phase} ({phase_s:.0f} s); seen so far {dict(seen)}", flush=True)
            if phase in SERVICE_PHASES and phase != "ok" and services:
                await asyncio.to_thread(services.fail, phase, phase_s)
                continue
            await asyncio.to_thread(model.set_phase, phase)
            await asyncio.sleep(phase_s)
        stop.set()
        await asyncio.gather(*tasks)
    return seen


def lost_messages(database_url: str) -> tuple[int, int]:
    """(customer messages stored, those with neither a reply after them nor a case)."""
    engine = create_engine(database_url)
    with engine.connect() as db:
        stored = db.execute(text("SELECT count(*) FROM messages WHERE role = 'customer'")).scalar()
        lost = db.execute(
            text(
                """
            SELECT count(*) FROM messages m
            WHERE m.role = 'customer'
              AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.conversation_id = m.conversation_id
                              AND r.seq > m.seq AND r.role = 'assistant')
              AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.message_id = m.id)
                """
            )
        ).scalar()
    engine.dispose()
    return int(stored or 0), int(lost or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--phase-seconds", type=float, default=30)
    parser.add_argument("--delay", type=float, default=1.5)
    parser.add_argument("--services", action="store_true", help="PostgreSQL and a Chroma server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        services = Services(Path(tmp)) if args.services else None
        database_url = services.database_url if services else f"sqlite:///{tmp}/tether.db"
        model_port, port = free_port(), free_port()
        env = {
            **os.environ,
            "TETHER_DATA_DIR": tmp,
            "TETHER_LLM_BACKEND": "openai",
            "TETHER_OPENAI_BASE_URL": f"http://127.0.0.1:{model_port}/v1",
            "TETHER_OPENAI_MODEL": "fake",
            "TETHER_LLM_TIMEOUT_S": "5",
            **(services.env() if services else {}),
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
                faults(
                    f"http://127.0.0.1:{port}",
                    key,
                    args.clients,
                    args.phase_seconds,
                    model,
                    services,
                )
            )
            elapsed = time.monotonic() - started
        finally:
            server.terminate()
            server.wait(30)
            model.stop()
            stored, lost = lost_messages(database_url)
            if services:
                services.stop()
    errors = sum(v for k, v in seen.items() if k not in ("200", "429", "503"))
    figures = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "phases": list(PHASES + (SERVICE_PHASES if args.services else ())),
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
