"""Graceful shutdown pieces: updates in flight, running scheduler jobs, hooks, webhook drain."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.methods import SetWebhook
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import SecretStr

from bot.app import build_dispatcher
from bot.config import Settings
from bot.i18n import Translator
from bot.lifecycle import Lifecycle, RunningJobs, stop_scheduler
from bot.qa.service import QAService
from bot.webhook import serve_webhook
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession, UpdateFactory


async def test_wait_idle_waits_for_updates_in_flight() -> None:
    life = Lifecycle()
    release = asyncio.Event()

    async def update() -> None:
        async with life.handling():
            await release.wait()

    task = asyncio.create_task(update())
    await asyncio.sleep(0)
    assert life.in_flight == 1
    assert not await life.wait_idle(0.01)  # timed out: still in flight
    waiter = asyncio.create_task(life.wait_idle(5))
    release.set()
    assert await waiter and life.in_flight == 0
    await task


async def test_shutdown_hooks_all_run_even_if_one_fails_or_hangs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    life = Lifecycle()
    ran: list[str] = []

    async def broken() -> None:
        ran.append("broken")
        raise RuntimeError("release failed")

    async def hangs() -> None:
        ran.append("hangs")
        await asyncio.Event().wait()

    async def release_claims() -> None:
        ran.append("release_claims")

    life.on_shutdown += [broken, hangs, release_claims]
    await life.run_shutdown_hooks(0.05)
    assert ran == ["broken", "hangs", "release_claims"]
    assert life.on_shutdown == []  # each hook runs once
    assert "timed out" in caplog.text and "failed" in caplog.text


async def test_scheduler_stops_after_its_running_job_finishes() -> None:
    scheduler = AsyncIOScheduler(timezone=UTC)
    started, release = asyncio.Event(), asyncio.Event()
    outcome: list[str] = []

    async def scan() -> None:
        started.set()
        try:
            await release.wait()
            outcome.append("finished")
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    scheduler.add_job(scan, "interval", seconds=3600, next_run_time=datetime.now(UTC), id="scan")
    jobs = RunningJobs(scheduler)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    assert jobs.ids == {"scan"}
    stopping = asyncio.create_task(stop_scheduler(scheduler, jobs, 5))
    await asyncio.sleep(0.02)
    assert not stopping.done()  # waits for the running scan
    release.set()
    await stopping
    assert outcome == ["finished"] and not scheduler.running


async def test_scheduler_job_past_the_deadline_is_cancelled() -> None:
    scheduler = AsyncIOScheduler(timezone=UTC)
    started = asyncio.Event()
    outcome: list[str] = []

    async def endless() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    scheduler.add_job(endless, next_run_time=datetime.now(UTC), id="endless")
    jobs = RunningJobs(scheduler)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    await stop_scheduler(scheduler, jobs, 0.05)
    assert outcome == ["cancelled"] and not scheduler.running


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_drain_finishes_the_update_in_flight_and_refuses_new_ones(
    settings: Settings, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    clock: FakeClock, qa_service: QAService, bot: Bot, session: RecordingSession,
) -> None:
    life = Lifecycle()
    dp = build_dispatcher(settings, pool, cipher, translator, clock, qa=qa_service,
                          lifecycle=life)
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        entered.set()
        await release.wait()  # a handler waiting on Telegram when SIGTERM comes
        return await handler(event, data)

    dp.update.outer_middleware(slow)
    port = free_port()
    hooked = settings.model_copy(update={
        "webhook_url": "https://bot.example.kz", "webhook_port": port,
        "webhook_secret": SecretStr("s3cret"),
    })
    stop = asyncio.Event()
    drained: list[bool] = []

    async def drain() -> None:
        drained.append(await life.wait_idle(5))

    server = asyncio.create_task(serve_webhook(bot, dp, hooked, stop, drain=drain))
    url = f"http://127.0.0.1:{port}/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    who = UpdateFactory(87_000, "kk")
    first = who.message("/help").model_dump(mode="json", exclude_none=True)
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            if session.sent(SetWebhook):
                break
            await asyncio.sleep(0.02)
        async with http.post(url, json=first, headers=headers) as resp:
            assert resp.status == 200  # accepted; handled in the background
        await asyncio.wait_for(entered.wait(), 5)
        stop.set()  # SIGTERM
        await asyncio.sleep(0.05)
        assert not server.done()  # draining: the update is still in flight
        later = who.message("/help").model_dump(mode="json", exclude_none=True)
        async with http.post(url, json=later, headers=headers) as resp:
            assert resp.status == 503  # on a kept-alive connection: refused, Telegram retries
    async with aiohttp.ClientSession() as fresh:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with fresh.post(url, json=later, headers=headers):
                pass  # no longer listening: the proxy tries another instance
    release.set()
    await asyncio.wait_for(server, 5)
    assert drained == [True]
    assert session.texts() == [translator.get("kk", "help-text")]  # finished, then closed
