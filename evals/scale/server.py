"""A ``chroma run`` server this benchmark owns: started on a folder, restarted on the same folder
(Chroma reads a collection's ``ef_search`` when it loads the index, so a new breadth takes effect
only in a server that loads it afresh), stopped afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from core.errors import StoreError

START_TIMEOUT_S = 300.0  # loading a million vectors' index takes a while on two cores


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """``chroma run --path folder`` on a free loopback port."""

    def __init__(self, folder: Path, log: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        command = [str(chroma), "run", "--path", str(self.folder), "--port", str(self.port)]
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        url = f"http://127.0.0.1:{self.port}/api/v2/heartbeat"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise StoreError(f"chroma run exited with {self._process.returncode}: {self._log}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise StoreError(f"chroma run did not answer in {START_TIMEOUT_S:.0f} s: {self._log}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def chroma_server(folder: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(folder, folder.parent / "chroma-server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
