"""A slow scan is reported once, with its duration, not at every skipped interval."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from aiogram import Bot

from bot.broadcast.engine import BroadcastEngine
from bot.config import Settings
from bot.i18n import Translator
from bot.job_context import JobContext
from bot.scheduler import build_scheduler
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.conftest import FakeClock


async def test_overrunning_scan_logs_one_line_not_one_per_interval(
    bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture,
    broadcasts: BroadcastEngine,
) -> None:
    ctx = JobContext(bot, pool, cipher, translator, settings, clock, broadcasts.pacer, broadcasts)
    scheduler = build_scheduler(ctx)
    for job in scheduler.get_jobs():
        if job.id != "reminder-scan":
            job.remove()
    release = asyncio.Event()
    runs: list[int] = []

    async def slow_scan() -> None:  # a scan that takes twenty intervals
        runs.append(1)
        await release.wait()

    scheduler.modify_job("reminder-scan", func=slow_scan)
    scheduler.reschedule_job("reminder-scan", trigger="interval", seconds=0.02)
    with caplog.at_level(logging.INFO):
        scheduler.start()
        await asyncio.sleep(0.4)
        release.set()
        await asyncio.sleep(0.05)
        scheduler.shutdown(wait=False)
    text = caplog.text
    assert "maximum number of running instances" not in text
    overrun = [r.getMessage() for r in caplog.records if "overrunning" in r.getMessage()]
    assert len(overrun) == 1 and re.search(r"reminder-scan .* after \d+ s", overrun[0])
    assert [r.getMessage() for r in caplog.records if "finished after" in r.getMessage()]
    assert runs  # the scan itself did run
