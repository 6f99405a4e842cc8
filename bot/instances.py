"""What several bot instances share: the per-user lock and update de-duplication.

With `REDIS_URL`: aiogram's `RedisEventIsolation` (behind this process's FIFO lock) and
`SET NX PX` de-duplication, both keyed by bot id (`DefaultKeyBuilder(with_bot_id=True)`) so two
bots on one Redis never share a lock. Without it: both in this process only, which is right for
one instance and is why README "Production" asks for Redis before running a second one. FSM
state needs nothing here: it lives in the database (bot/fsm_storage.py), which every instance
already shares, encrypted and in the same transaction as the update's other writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram.fsm.storage.base import BaseEventIsolation, DefaultKeyBuilder

from bot.concurrency import SharedLocks, UserLocks
from bot.dedup import MemoryDedup, RedisDedup, UpdateDedup

if TYPE_CHECKING:
    from redis.asyncio import Redis

KEY_PREFIX = "kilt"
# A lock outlives a crashed holder by at most this long; handlers take milliseconds to seconds.
LOCK_EXPIRY_SECONDS = 60
# How often a waiting instance retries a held Redis lock (redis-py polls; default 0.1 s).
LOCK_RETRY_SECONDS = 0.02
# Connections per instance; each update holds one only for a command's round trip.
REDIS_CONNECTIONS = 50


@dataclass
class SharedState:
    isolation: BaseEventIsolation
    dedup: UpdateDedup
    redis: Redis | None = None

    async def ping(self) -> None:
        """Raises when Redis is configured but unreachable (for start-up and /healthz)."""
        if self.redis is not None:
            await self.redis.ping()

    async def close(self) -> None:
        await self.isolation.close()
        if self.redis is not None:
            await self.redis.aclose(close_connection_pool=True)


def redis_isolation(redis: Redis) -> BaseEventIsolation:
    from aiogram.fsm.storage.redis import RedisEventIsolation

    # Keys look like kilt:<bot id>:<chat>:<user>:user-lock:lock (bot.concurrency.user_key).
    return RedisEventIsolation(
        redis,
        key_builder=DefaultKeyBuilder(prefix=KEY_PREFIX, with_bot_id=True, with_destiny=True),
        lock_kwargs={"timeout": LOCK_EXPIRY_SECONDS, "sleep": LOCK_RETRY_SECONDS},
    )


def local_state(dedup_seconds: float) -> SharedState:
    return SharedState(UserLocks(), MemoryDedup(dedup_seconds))


def redis_state(redis: Redis, dedup_seconds: float) -> SharedState:
    return SharedState(
        SharedLocks(UserLocks(), redis_isolation(redis)),
        RedisDedup(redis, dedup_seconds, prefix=KEY_PREFIX),
        redis,
    )


def build_shared_state(redis_url: str | None, dedup_seconds: float) -> SharedState:
    """Redis-backed when a URL is given, in-process otherwise."""
    if not redis_url:
        return local_state(dedup_seconds)
    from redis.asyncio import BlockingConnectionPool, Redis

    # A burst of updates waits for a free connection; redis-py's default pool raises
    # MaxConnectionsError past 100 (measured: a burst of 550 updates failed by the hundreds).
    pool = BlockingConnectionPool.from_url(
        redis_url,
        max_connections=REDIS_CONNECTIONS,
        timeout=20,
        socket_connect_timeout=5,  # fail in seconds when Redis is unreachable (start, /healthz)
        health_check_interval=30,
    )
    return redis_state(Redis(connection_pool=pool), dedup_seconds)
