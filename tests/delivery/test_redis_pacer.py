"""RedisPacer on a real redis-server: two pacers (two bot instances) share one rate, one
per-chat interval and one 429 pause. A virtual clock drives the slots; Redis does the rest."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.delivery.redis_pacer import RedisPacer
from tests.delivery.test_pacer import EPS, _chat_gaps, _max_in_window


class VirtualTime:
    """Virtual clock for tasks that also wait on real I/O (Redis): time moves to the next
    sleeper's deadline only once every live task is asleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._seq = itertools.count()
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self.now + max(delay, 0.0), next(self._seq), fut))
        await fut

    async def run(self, *coros: Coroutine[Any, Any, None]) -> None:
        tasks = [asyncio.ensure_future(c) for c in coros]
        while not all(t.done() for t in tasks):
            live = sum(not t.done() for t in tasks)
            if len(self._waiters) < live:
                await asyncio.sleep(0.0005)  # someone is still talking to Redis
                continue
            when, _, fut = heapq.heappop(self._waiters)
            self.now = max(self.now, when)
            fut.set_result(None)
            await asyncio.sleep(0)
        for t in tasks:
            t.result()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def two_instances(redis: Redis, vt: VirtualTime, **kw: Any) -> tuple[RedisPacer, RedisPacer]:
    # Separate clients, like two processes; the same bot prefix.
    other = Redis(connection_pool=redis.connection_pool.__class__(
        **redis.connection_pool.connection_kwargs))
    return (RedisPacer(redis, "kilt:1", clock=vt.clock, sleep=vt.sleep, **kw),
            RedisPacer(other, "kilt:1", clock=vt.clock, sleep=vt.sleep, **kw))


async def _send(vt: VirtualTime, pacer: RedisPacer, chat: int, log: list[tuple[float, int]],
                paid: bool = False) -> None:
    await pacer.acquire(chat, paid=paid)
    log.append((vt.now, chat))


async def test_two_instances_together_keep_one_global_rate(redis: Redis) -> None:
    vt = VirtualTime()
    a, b = two_instances(redis, vt, global_rps=20.0)
    log: list[tuple[float, int]] = []
    # 40 sends from each instance, all started at once, each to its own chat.
    await vt.run(*(_send(vt, a if i % 2 else b, i, log) for i in range(80)))
    times = sorted(t for t, _ in log)
    assert len(times) == 80
    assert _max_in_window(times, 1.0) <= 20
    assert times[-1] - times[0] == pytest.approx(79 / 20, abs=1e-3)  # and no slower than that
    assert len({t for t in times}) == 80  # no slot handed out twice


async def test_per_chat_interval_is_shared(redis: Redis) -> None:
    vt = VirtualTime()
    a, b = two_instances(redis, vt, global_rps=25.0, per_chat_interval=1.0)
    log: list[tuple[float, int]] = []
    await vt.run(*(_send(vt, a if i % 2 else b, 42, log) for i in range(4)),
                 *(_send(vt, b, chat, log) for chat in range(100, 105)))
    chat42 = [t for t, c in log if c == 42]
    assert len(chat42) == 4 and min(_chat_gaps([(t, 42) for t in chat42])) >= 1.0 - EPS
    others = [t for t, c in log if c != 42]
    assert max(others) - 1000.0 < 0.5  # other chats are not held up by chat 42's interval


async def test_back_off_on_one_instance_pauses_the_other(redis: Redis) -> None:
    vt = VirtualTime()
    a, b = two_instances(redis, vt, global_rps=10.0)
    log: list[tuple[float, int]] = []

    async def flood_control_on_a() -> None:
        await vt.sleep(0.45)
        await a.back_off(30.0)

    # b's senders hold reserved slots (sleeping) when a gets the 429: they must queue again.
    await vt.run(flood_control_on_a(), *(_send(vt, b, c, log) for c in range(20)))
    early = [t for t, _ in log if t < 1000.45]
    late = sorted(t for t, _ in log if t >= 1000.45)
    assert len(early) == 5
    assert late[0] == pytest.approx(1030.45, abs=1e-3)
    assert _max_in_window(late, 1.0) <= 10  # no burst when the pause ends


async def test_shorter_pause_never_shortens_a_longer_one(redis: Redis) -> None:
    vt = VirtualTime()
    a, b = two_instances(redis, vt)
    await a.back_off(20.0)
    await b.back_off(5.0)
    await b.back_off(0.0)
    log: list[tuple[float, int]] = []
    await vt.run(_send(vt, b, 1, log))
    assert log[0][0] == pytest.approx(1020.0, abs=1e-3)


async def test_requeued_sender_keeps_the_chat_free(redis: Redis) -> None:
    """A sender sent back to the queue by a pause hands its chat reservation back."""
    vt = VirtualTime()
    a, b = two_instances(redis, vt, global_rps=10.0, per_chat_interval=5.0)
    log: list[tuple[float, int]] = []

    async def flood() -> None:
        await vt.sleep(0.05)
        await a.back_off(1.0)

    await vt.run(_send(vt, a, 7, log), _send(vt, b, 8, log), flood())
    # Which of the two instances wins the first slot depends on Redis round trips; the other
    # one waits, is sent back to the queue by the pause, and must send right after the pause,
    # not 5 s later (the chat interval of a reservation it failed to hand back).
    first, second = sorted(t for t, _ in log)
    assert first == pytest.approx(1000.0, abs=1e-3)
    assert second == pytest.approx(1001.05, abs=1e-3)


async def test_paid_lane_and_other_bots_are_separate(redis: Redis) -> None:
    vt = VirtualTime()
    a, _ = two_instances(redis, vt, global_rps=10.0, paid_rps=100.0)
    other_bot = RedisPacer(redis, "kilt:2", global_rps=10.0, clock=vt.clock, sleep=vt.sleep)
    log: list[tuple[float, int]] = []
    await vt.run(*(_send(vt, a, c, log, paid=True) for c in range(50)),
                 _send(vt, other_bot, 1, log))
    paid = sorted(t for t, c in log)
    assert paid[-1] - 1000.0 == pytest.approx(49 / 100, abs=1e-3)
    assert a.rate(paid=True) == 100.0 and a.rate() == 10.0
    assert [t for t, c in log if c == 1][-1] <= 1000.0 + 0.5  # its own bucket


async def test_real_clock_two_pacers_hold_the_rate(redis: Redis) -> None:
    """Redis's own clock, real sleeps: 2 × 30 sends at 100/s take ~0.6 s, never faster."""
    other = Redis(connection_pool=redis.connection_pool.__class__(
        **redis.connection_pool.connection_kwargs))
    a, b = RedisPacer(redis, "kilt:9", 100.0), RedisPacer(other, "kilt:9", 100.0)
    stamps: list[float] = []

    async def send(p: RedisPacer, chat: int) -> None:
        await p.acquire(chat)
        stamps.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(send(a if i % 2 else b, i) for i in range(60)))
    await other.aclose()
    # The slots come from Redis's clock 10 ms apart; wake-ups on a busy machine may bunch up,
    # so the check is the total: 60 grants can not take less than 59 intervals.
    assert len(stamps) == 60
    assert max(stamps) - started >= 59 / 100 - 0.02
