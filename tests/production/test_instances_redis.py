"""Two bot instances sharing one Redis (a real redis-server): one user's updates never overlap,
an update given to both is handled once, and the de-duplication claim expires."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis

from bot.app import build_dispatcher
from bot.concurrency import UserLocks, user_key
from bot.config import Settings
from bot.dedup import RedisDedup, UpdateDedup
from bot.i18n import Translator
from bot.instances import REDIS_CONNECTIONS, SharedState, build_shared_state, redis_state
from bot.metrics import Metrics
from bot.qa.service import QAService
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession, UpdateFactory, make_bot

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class OverlapProbe:
    """Inner-most update middleware (inside the user lock): how many updates run at once."""

    def __init__(self) -> None:
        self.active: Counter[int] = Counter()
        self.total = self.max_total = self.max_same_user = 0

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        uid = data["event_from_user"].id
        self.active[uid] += 1
        self.total += 1
        self.max_same_user = max(self.max_same_user, self.active[uid])
        self.max_total = max(self.max_total, self.total)
        try:
            await asyncio.sleep(0.01)  # a handler that awaits I/O: room for another to enter
            return await handler(event, data)
        finally:
            self.active[uid] -= 1
            self.total -= 1


class Instance:
    """One bot process: its own bot, Redis connection, locks and dispatcher; shared DB."""

    def __init__(self, dp: Dispatcher, bot: Bot, state: SharedState, metrics: Metrics) -> None:
        self.dp, self.bot, self.state, self.metrics = dp, bot, state, metrics

    @property
    def session(self) -> RecordingSession:
        assert isinstance(self.bot.session, RecordingSession)
        return self.bot.session


@pytest.fixture
def make_instance(
    settings: Settings, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    clock: FakeClock, qa_service: QAService,
) -> Callable[[BaseEventIsolation, UpdateDedup | None, SharedState | None], Instance]:
    def make(
        isolation: BaseEventIsolation, dedup: UpdateDedup | None, state: SharedState | None
    ) -> Instance:
        metrics = Metrics()
        dp = build_dispatcher(
            settings, pool, cipher, translator, clock, qa=qa_service,
            isolation=isolation, dedup=dedup, metrics=metrics,
        )
        return Instance(dp, make_bot(), state or SharedState(isolation, dedup), metrics)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def two_redis_instances(
    redis_url: str, make_instance: Callable[..., Instance]
) -> AsyncIterator[tuple[Instance, Instance]]:
    states = [redis_state(Redis.from_url(redis_url), 3600.0) for _ in range(2)]
    pair = tuple(make_instance(s.isolation, s.dedup, s) for s in states)
    yield pair  # type: ignore[misc]
    for s in states:
        await s.close()


async def feed_interleaved(
    instances: tuple[Instance, Instance], people: list[UpdateFactory], per_person: int
) -> None:
    """Every person's updates alternate between the two instances, all at once."""
    jobs = []
    for who in people:
        for i in range(per_person):
            inst = instances[i % 2]
            jobs.append(inst.dp.feed_update(inst.bot, who.message("/help")))
    await asyncio.gather(*jobs)


async def test_redis_lock_serialises_one_user_across_two_instances(
    two_redis_instances: tuple[Instance, Instance], translator: Translator
) -> None:
    probe = OverlapProbe()
    for inst in two_redis_instances:
        inst.dp.update.outer_middleware(probe)  # registered last: runs inside the user lock
    people = [UpdateFactory(81_000 + i, "kk") for i in range(3)]
    await feed_interleaved(two_redis_instances, people, per_person=6)
    assert probe.max_same_user == 1  # never two updates of one person at once
    assert probe.max_total >= 2  # while different people were served side by side
    replies = sum(len(i.session.texts()) for i in two_redis_instances)
    assert replies == 18
    texts = {t for inst in two_redis_instances for t in inst.session.texts()}
    assert texts == {translator.get("kk", "help-text")}


async def test_without_shared_locks_two_instances_do_overlap(
    make_instance: Callable[..., Instance],
) -> None:
    """The control: in-process locks only, so the probe above can see an overlap."""
    pair = (make_instance(UserLocks(), None, None), make_instance(UserLocks(), None, None))
    probe = OverlapProbe()
    for inst in pair:
        inst.dp.update.outer_middleware(probe)
    await feed_interleaved(pair, [UpdateFactory(81_100, "ru")], per_person=6)
    assert probe.max_same_user == 2


async def test_same_update_given_to_both_instances_is_handled_once(
    two_redis_instances: tuple[Instance, Instance],
) -> None:
    a, b = two_redis_instances
    update = UpdateFactory(82_000, "ru").message("/help")
    copy = Update.model_validate(update.model_dump())  # the second delivery, as parsed anew
    await asyncio.gather(a.dp.feed_update(a.bot, update), b.dp.feed_update(b.bot, copy))
    assert len(a.session.texts()) + len(b.session.texts()) == 1
    dupes = [i.metrics.updates_duplicate._value.get() for i in two_redis_instances]
    assert sorted(dupes) == [0, 1]
    # A Telegram retry later, to either instance, is skipped too.
    await a.dp.feed_update(a.bot, Update.model_validate(update.model_dump()))
    assert len(a.session.texts()) + len(b.session.texts()) == 1


async def test_dedup_claim_expires(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        dedup = RedisDedup(redis, ttl=0.2)
        assert await dedup.first_time(4242, 7)
        assert not await dedup.first_time(4242, 7)
        assert await dedup.first_time(4243, 7)  # another bot on the same Redis: its own ids
        ttl_ms = await redis.pttl(dedup.key(4242, 7))
        assert 0 < ttl_ms <= 200
        for _ in range(100):  # Redis expires the key on its own clock
            if await redis.exists(dedup.key(4242, 7)) == 0:
                break
            await asyncio.sleep(0.01)
        assert await dedup.first_time(4242, 7)  # after expiry the id is new again
        # The production default keeps a claim for an hour.
        assert RedisDedup(redis, ttl=3600.0).ttl_ms == 3_600_000
    finally:
        await redis.aclose()


async def test_shared_locks_keep_arrival_order_within_an_instance(
    redis_url: str, bot: Bot
) -> None:
    state = redis_state(Redis.from_url(redis_url), 3600.0)
    who = UpdateFactory(83_000)
    order: list[int] = []

    async def handle(i: int) -> None:
        async with state.isolation.lock(user_key(bot, who.user)):
            await asyncio.sleep(0.001 * (5 - i % 5))  # later updates would finish first
            order.append(i)

    try:
        await asyncio.gather(*(handle(i) for i in range(12)))
        assert order == list(range(12))
        redis = state.redis
        assert redis is not None
        assert await redis.keys("kilt:*") == []  # released, none left behind
    finally:
        await state.close()


async def test_a_burst_larger_than_the_redis_pool_waits_instead_of_failing(
    redis_url: str, make_instance: Callable[..., Instance], caplog: pytest.LogCaptureFixture,
) -> None:
    """Regression: redis-py's default pool raised MaxConnectionsError past 100 connections, so
    a burst of updates failed by the hundreds; the runtime's pool makes them wait instead."""
    state = build_shared_state(redis_url, 3600.0)
    inst = make_instance(state.isolation, state.dedup, state)
    people = [UpdateFactory(88_000 + i, "ru") for i in range(REDIS_CONNECTIONS * 3)]
    try:
        with caplog.at_level(logging.ERROR):
            await asyncio.gather(*(inst.dp.feed_update(inst.bot, p.message("/help"))
                                   for p in people))
    finally:
        await state.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(inst.session.texts()) == len(people)
