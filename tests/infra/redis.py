"""A throw-away Redis server for tests, like tests/infra/postgres.py does for PostgreSQL.

`RedisServer` runs `redis-server` on 127.0.0.1 and a free port with its files in a temp dir
(no persistence) and removes everything on exit. scripts/test.sh installs `redis-server` with
apt-get when it is missing and we are root; elsewhere the tests that need it are skipped with the
reason printed. With `KILT_TEST_REDIS_URL` set, that server is used instead (and flushed).

    with RedisServer() as server:
        server.url                  # redis://127.0.0.1:<port>/0
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.infra.service import Service, free_port

ENV_URL = "KILT_TEST_REDIS_URL"


class RedisError(RuntimeError):
    """The test server could not be started."""


def redis_available() -> tuple[bool, str]:
    if os.environ.get(ENV_URL) or shutil.which("redis-server"):
        return True, ""
    return False, (
        "redis-server is not installed (scripts/test.sh installs it with apt-get when run as "
        f"root); install it or set {ENV_URL}"
    )



def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer(Service):
    """Context manager owning a redis-server process (or naming an external server)."""

    def __init__(self, start_timeout: float = 20.0) -> None:
        self.start_timeout = start_timeout
        self.external = os.environ.get(ENV_URL)
        self.port = 0
        self.tmpdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.external or f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self.external:
            return
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisError(redis_available()[1])
        self.tmpdir = Path(tempfile.mkdtemp(prefix="kilt-redis-"))
        for attempt in range(3):  # a free port can be taken before redis binds it
            self.port = free_port()
            log = self.tmpdir / "redis.log"
            self._proc = subprocess.Popen(
                [
                    binary, "--bind", "127.0.0.1", "--port", str(self.port),
                    "--dir", str(self.tmpdir), "--save", "", "--appendonly", "no",
                    "--logfile", str(log), "--daemonize", "no",
                ],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + self.start_timeout
            while time.monotonic() < deadline and self._proc.poll() is None:
                if _answers_ping(self.port):
                    return
                time.sleep(0.02)
            self._kill()
            if attempt == 2:
                text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                self.stop()
                raise RedisError(f"redis-server did not start:\n{text}")

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def stop(self) -> None:
        self._kill()
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """Session-wide server; skips (with the reason) when redis-server is not installed."""
    ok, reason = redis_available()
    if not ok:
        pytest.skip(reason)
    with RedisServer() as server:
        yield server


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> AsyncIterator[str]:
    """The server's URL, emptied before each test so tests never see each other's keys."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_server.url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    yield redis_server.url
