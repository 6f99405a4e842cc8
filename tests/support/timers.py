"""A controllable `sleep` for background tasks, and a bounded wait for their effects."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class ManualTimer:
    """Time that moves only when a test calls `advance`; a sleeper wakes once it is due."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, future))
        await future

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        for due, future in self._sleepers:
            if due <= self.now and not future.done():
                future.set_result(None)
        self._sleepers = [(d, f) for d, f in self._sleepers if not f.done()]
        await settle()

    def sleeping(self) -> int:
        return len(self._sleepers)


async def settle(passes: int = 20) -> None:
    """A few passes of the event loop: enough for a woken task to start its next step."""
    for _ in range(passes):
        await asyncio.sleep(0)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    """Wait (in real time, polling) until `check()` holds; a background write is done."""
    async with asyncio.timeout(seconds):
        while not await check():
            await asyncio.sleep(0.01)
