"""Update de-duplication without Redis: in this process, with expiry on a controllable clock."""

from __future__ import annotations

import asyncio

from aiogram import Bot
from aiogram.types import Update

from bot.app import build_dispatcher
from bot.config import Settings
from bot.dedup import MemoryDedup
from bot.i18n import Translator
from bot.metrics import Metrics
from bot.qa.service import QAService
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession, UpdateFactory


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_dedup_expires_and_forgets() -> None:
    ticks = Ticks()
    dedup = MemoryDedup(ttl=60.0, clock=ticks)
    assert await dedup.first_time(1, 10)
    assert not await dedup.first_time(1, 10)
    assert await dedup.first_time(2, 10)  # another bot's update 10
    ticks.now += 59.9
    assert not await dedup.first_time(1, 10)
    ticks.now += 0.2
    assert await dedup.first_time(1, 10)  # expired: a new claim
    ticks.now += 61
    for i in range(100):
        await dedup.first_time(1, 1000 + i)
    assert len(dedup) == 100  # the expired claims were purged, memory stays bounded


async def test_dispatcher_skips_a_redelivered_update(
    settings: Settings, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    clock: FakeClock, qa_service: QAService, bot: Bot, session: RecordingSession,
) -> None:
    metrics = Metrics()
    dp = build_dispatcher(
        settings, pool, cipher, translator, clock, qa=qa_service,
        dedup=MemoryDedup(3600.0), metrics=metrics,
    )
    update = UpdateFactory(84_000, "kk").message("/help")
    retry = Update.model_validate(update.model_dump())
    await asyncio.gather(dp.feed_update(bot, update), dp.feed_update(bot, retry))
    assert session.texts() == [translator.get("kk", "help-text")]
    assert metrics.updates_duplicate._value.get() == 1
    await dp.feed_update(bot, UpdateFactory(84_000, "kk").message("/help"))  # a new update
    assert len(session.texts()) == 2
