"""Helpers for the broadcast engine tests (imported by tests; fixtures are in conftest)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.broadcasts import Audience
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.conftest import FakeClock


class VirtualTime:
    """A pacer clock that jumps instead of sleeping, so paced tests run instantly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def new_broadcast(
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock, audience: Audience | None = None,
    *, admin: int | None = 777, delay: timedelta = timedelta(0),
) -> int:
    async with pool() as session:
        repos = Repos.build(session, cipher)
        broadcast_id = await repos.broadcasts.create(
            admin, {"kk": "<b>Кеңес</b>", "ru": "<b>Совет</b>"}, audience or Audience(),
            clock.now + delay, clock.now, progress_chat=admin,
        )
        await session.commit()
    return broadcast_id
