"""A throwaway PostgreSQL server for tests: its own cluster, on a free loopback port, trust auth.

The server binaries come from Debian's postgresql package (scripts/test_services.sh installs it).
PostgreSQL refuses to run as root, so when the tests run as root every server command runs as the
`postgres` OS user through `runuser`, and the cluster lives in a directory that user owns.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

SUPERUSER = "tether"
POSTGRES_ROOT = Path("/usr/lib/postgresql")
READY_TIMEOUT = 60.0
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PORT_ATTEMPTS = 3


def find_bin_dir() -> Path:
    """The bin directory of the highest installed PostgreSQL major version."""
    candidates = [
        path.parent
        for path in POSTGRES_ROOT.glob("*/bin/postgres")
        if path.parent.parent.name.isdigit()
    ]
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL server binaries not found under {POSTGRES_ROOT}/<version>/bin: "
            "run scripts/test_services.sh"
        )
    return max(candidates, key=lambda bin_dir: int(bin_dir.parent.name))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run_as_postgres() -> bool:
    return os.geteuid() == 0


def _server_env() -> dict[str, str]:
    """The caller's environment without libpq variables that could point commands elsewhere."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


class PostgresServer:
    """One PostgreSQL cluster, started by `PostgresServer.start(base_dir)`, removed by `stop()`."""

    def __init__(self, bin_dir: Path, root_dir: Path, port: int) -> None:
        self.bin_dir = bin_dir
        self.root_dir = root_dir
        self.data_dir = root_dir / "data"
        self.log_file = root_dir / "server.log"
        self.port = port

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def start(cls, base_dir: Path) -> PostgresServer:
        """Create a cluster under `base_dir` (or a temp dir the postgres user can reach), start it
        and wait until it accepts connections."""
        bin_dir = find_bin_dir()
        root_dir = _cluster_root(base_dir)
        server = cls(bin_dir, root_dir, free_port())
        try:
            server._initdb()
            for attempt in range(_PORT_ATTEMPTS):
                server._write_config()
                try:
                    server.start_server()
                    break
                except RuntimeError:
                    # Another process may have taken the port between free_port() and bind().
                    if attempt + 1 == _PORT_ATTEMPTS or "could not bind" not in server.log_tail():
                        raise
                    server.port = free_port()
        except BaseException:
            server.stop()
            raise
        return server

    def start_server(self) -> None:
        """Start the (stopped) server and wait until it accepts connections."""
        self._pg_ctl("start", "-w", "-t", str(int(READY_TIMEOUT)), "-l", str(self.log_file))
        self.wait_until_ready()

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server, keeping its data: connections fail until `start_server()`."""
        self._pg_ctl("stop", "-w", "-t", str(int(READY_TIMEOUT)), "-m", mode)

    def restart(self, mode: str = "immediate") -> None:
        """Restart the server. The default, immediate, kills it without a checkpoint (like a crash),
        so the restart runs crash recovery from the WAL."""
        self._pg_ctl(
            "restart",
            "-w",
            "-t",
            str(int(READY_TIMEOUT)),
            "-m",
            mode,
            "-l",
            str(self.log_file),
        )
        self.wait_until_ready()

    def is_running(self) -> bool:
        result = self._command(
            [str(self.bin_dir / "pg_ctl"), "status", "-D", str(self.data_dir)], check=False
        )
        return result.returncode == 0

    def ensure_running(self) -> None:
        if not self.is_running():
            self.start_server()

    def stop(self) -> None:
        """Full teardown: stop the server if it runs and delete the cluster."""
        if self.data_dir.joinpath("postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self.stop_server("immediate")
        shutil.rmtree(self.root_dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- connections -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the `postgres` database."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string for psycopg."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"database name must match {_DB_NAME.pattern}: {name!r}")
        with psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting any sessions still using it."""
        with psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def wait_until_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Poll with real connections until the server answers `SELECT 1`."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as error:
                last_error = error
                time.sleep(0.1)
        raise RuntimeError(
            f"PostgreSQL on 127.0.0.1:{self.port} not ready after {timeout:.0f}s: {last_error}\n"
            f"--- {self.log_file} (tail) ---\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- internals ---------------------------------------------------------------------------

    def _initdb(self) -> None:
        self._command(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                # Only skips syncing initdb's own files; the server itself runs with fsync on.
                "--no-sync",
            ]
        )

    def _write_config(self) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "''",
            "fsync": "on",
            "synchronous_commit": "on",
            "full_page_writes": "on",
            "shared_buffers": "'16MB'",
            "max_connections": "50",
            "logging_collector": "off",
            "log_min_messages": "warning",
        }
        config = self.data_dir / "tether_test.conf"
        config.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
        main_config = self.data_dir / "postgresql.conf"
        include = "include 'tether_test.conf'\n"
        text = main_config.read_text()
        if include not in text:
            main_config.write_text(text + "\n" + include)
        if _run_as_postgres():
            owner = pwd.getpwnam("postgres")
            os.chown(config, owner.pw_uid, owner.pw_gid)

    def _pg_ctl(self, *args: str) -> None:
        command = [str(self.bin_dir / "pg_ctl"), args[0], "-D", str(self.data_dir), *args[1:]]
        self._command(command)

    def _command(
        self, command: list[str], *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        if _run_as_postgres():
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command,
            cwd=self.root_dir,
            env=_server_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=READY_TIMEOUT + 30,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} exited with {result.returncode}\n"
                f"{result.stdout}{result.stderr}"
                f"--- {self.log_file} (tail) ---\n{self.log_tail()}"
            )
        return result


def _cluster_root(base_dir: Path) -> Path:
    """A fresh directory for the cluster that the server's OS user owns.

    As root, the server runs as `postgres`, which cannot enter pytest's tmp dirs (mode 0700, owned
    by root); the cluster then goes to a new directory under the system temp dir instead.
    """
    base_dir.mkdir(parents=True, exist_ok=True)
    if not _run_as_postgres():
        return Path(tempfile.mkdtemp(prefix="postgres-", dir=base_dir))
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root but there is no `postgres` OS user: run scripts/test_services.sh"
        ) from None
    if shutil.which("runuser") is None:
        raise RuntimeError("running as root needs `runuser` (util-linux) to start PostgreSQL")
    reachable = (
        subprocess.run(
            ["runuser", "-u", "postgres", "--", "test", "-x", str(base_dir)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    root = Path(tempfile.mkdtemp(prefix="tether-postgres-", dir=base_dir if reachable else None))
    os.chown(root, owner.pw_uid, owner.pw_gid)
    return root
