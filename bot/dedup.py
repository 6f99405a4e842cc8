"""An update Telegram delivers twice is handled once.

Telegram re-sends a webhook update when it did not see our 200 in time (a slow proxy, a restarted
instance), and behind a load balancer the two copies may reach two instances. The first copy
claims its `update_id` for `ttl` seconds: in Redis with `SET key 1 NX PX ttl` (one atomic step
shared by every instance) or, without Redis, in this process's memory (enough for the single
instance such a deployment is: see README "Production"). A later copy is dropped and counted.

The claim is taken before the per-user lock, so a duplicate never waits in a user's queue.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.metrics import Metrics

logger = logging.getLogger("bot.dedup")
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateDedup(Protocol):
    async def first_time(self, bot_id: int, update_id: int) -> bool:
        """True for the first delivery of this update within the expiry, False for a copy."""
        ...


class MemoryDedup:
    """Update ids seen in this process, forgotten after `ttl` seconds (bounded memory)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._seen: dict[tuple[int, int], float] = {}
        self._order: deque[tuple[float, tuple[int, int]]] = deque()

    async def first_time(self, bot_id: int, update_id: int) -> bool:
        now = self.clock()
        while self._order and self._order[0][0] <= now:  # purge what has expired
            expires, key = self._order.popleft()
            if self._seen.get(key) == expires:
                del self._seen[key]
        key = (bot_id, update_id)
        if key in self._seen:
            return False
        self._seen[key] = now + self.ttl
        self._order.append((now + self.ttl, key))
        return True

    def __len__(self) -> int:
        return len(self._seen)


class RedisDedup:
    """`SET kilt:<bot id>:update:<update id> 1 NX PX <ttl>`: one winner across all instances."""

    def __init__(self, redis: Redis, ttl: float, prefix: str = "kilt") -> None:
        self.redis, self.ttl_ms, self.prefix = redis, max(1, int(ttl * 1000)), prefix

    def key(self, bot_id: int, update_id: int) -> str:
        return f"{self.prefix}:{bot_id}:update:{update_id}"

    async def first_time(self, bot_id: int, update_id: int) -> bool:
        return bool(await self.redis.set(self.key(bot_id, update_id), 1, nx=True, px=self.ttl_ms))


class DedupMiddleware(BaseMiddleware):
    """Outer update middleware placed before the user lock: drops re-delivered updates."""

    def __init__(self, dedup: UpdateDedup, metrics: Metrics | None = None) -> None:
        self.dedup, self.metrics = dedup, metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        if await self.dedup.first_time(data["bot"].id, event.update_id):
            return await handler(event, data)
        logger.info("update %s was delivered again: skipped", event.update_id)
        if self.metrics is not None:
            self.metrics.updates_duplicate.inc()
        return None
