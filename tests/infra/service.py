"""What every throw-away server of the tests shares: a free loopback port and start/stop as a
context manager (PostgreSQL, Redis, the local Telegram, bot processes, a bot cluster)."""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Self


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (someone may take it before we bind it: callers
    that start a server retry with another one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    """`with X() as x:` starts x and always stops it; subclasses define start() and stop()."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
