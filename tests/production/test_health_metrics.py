"""/healthz and /metrics through aiohttp's test client and on the webhook server's real port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import SendMessage, SetWebhook, TelegramMethod
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_dispatcher
from bot.config import Settings
from bot.health import POLLING_SILENCE, HealthCheck, add_ops_routes
from bot.i18n import Translator
from bot.lifecycle import Lifecycle
from bot.metrics import Metrics, install_api_metrics
from bot.qa.service import QAService
from bot.webhook import serve_webhook
from storage.database import SessionPool, create_session_pool
from storage.encryption import FieldCipher
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession, UpdateFactory


class Wall:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def scheduler() -> AsyncIterator[AsyncIOScheduler]:
    sched = AsyncIOScheduler()
    sched.start()
    yield sched
    if sched.running:
        sched.shutdown(wait=False)


async def get(app: web.Application, path: str) -> tuple[int, str, dict[str, Any] | None]:
    async with TestClient(TestServer(app)) as client:
        resp = await client.get(path)
        text = await resp.text()
        body = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, text, body


def ops_app(health: HealthCheck, metrics: Metrics) -> web.Application:
    app = web.Application()
    add_ops_routes(app, health, metrics)
    return app


async def test_healthy_webhook_instance(pool: SessionPool, scheduler: AsyncIOScheduler) -> None:
    wall = Wall()
    life = Lifecycle(wall)
    health = HealthCheck(pool, scheduler, life, polling=False)
    status, _, body = await get(ops_app(health, Metrics()), "/healthz")
    assert status == 200 and body is not None
    assert body["status"] == "ok" and body["database"] and body["scheduler"]
    assert body["last_update_at"] is None  # no traffic yet is not an outage for a webhook
    wall.now += 3 * POLLING_SILENCE
    life.saw_telegram()
    wall.now += 12.5
    status, _, body = await get(ops_app(health, Metrics()), "/healthz")
    assert status == 200 and body is not None
    assert body["last_update_age_s"] == 12.5 and body["last_update_at"].startswith("2027-")


async def test_unhealthy_when_database_scheduler_or_redis_fail(
    pool: SessionPool, scheduler: AsyncIOScheduler
) -> None:
    life = Lifecycle()
    engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        down = HealthCheck(create_session_pool(engine), scheduler, life, polling=False)
        status, _, body = await get(ops_app(down, Metrics()), "/healthz")
        assert status == 503 and body == {**body, "status": "fail", "database": False}
    finally:
        await engine.dispose()

    async def redis_down() -> None:
        raise ConnectionError("refused")

    no_redis = HealthCheck(pool, scheduler, life, polling=False, redis_ping=redis_down)
    status, _, body = await get(ops_app(no_redis, Metrics()), "/healthz")
    assert status == 503 and body is not None and body["redis"] is False

    scheduler.shutdown(wait=False)
    stopped = HealthCheck(pool, scheduler, life, polling=False)
    status, _, body = await get(ops_app(stopped, Metrics()), "/healthz")
    assert status == 503 and body is not None and body["scheduler"] is False


async def test_draining_instance_reports_503(
    pool: SessionPool, scheduler: AsyncIOScheduler
) -> None:
    life = Lifecycle()
    life.draining = True
    status, _, body = await get(ops_app(HealthCheck(pool, scheduler, life, polling=False),
                                        Metrics()), "/healthz")
    assert status == 503 and body is not None and body["draining"] is True


async def test_polling_instance_needs_recent_getupdates(
    pool: SessionPool, scheduler: AsyncIOScheduler
) -> None:
    wall = Wall()
    life = Lifecycle(wall)
    health = HealthCheck(pool, scheduler, life, polling=True)
    assert (await health.report())[0] == 200  # just started: within the grace period
    wall.now += POLLING_SILENCE + 1
    status, body = await health.report()
    assert status == 503 and body["telegram"] is False
    life.saw_telegram()  # a getUpdates answer arrived
    status, body = await health.report()
    assert status == 200 and body["telegram"] is True and body["last_update_age_s"] == 0


async def test_metrics_count_updates_latency_errors_and_telegram_refusals(
    settings: Settings, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    clock: FakeClock, qa_service: QAService, bot: Bot, session: RecordingSession,
    scheduler: AsyncIOScheduler,
) -> None:
    metrics, life = Metrics(), Lifecycle()
    install_api_metrics(bot, metrics, life)
    dp = build_dispatcher(settings, pool, cipher, translator, clock, qa=qa_service,
                          metrics=metrics, lifecycle=life)
    who = UpdateFactory(85_000, "ru")
    await dp.feed_update(bot, who.message("/help"))
    await dp.feed_update(bot, who.callback("no-such-button"))

    def once(error: Exception) -> Any:
        fired: list[bool] = []

        def fail(method: TelegramMethod[Any]) -> Exception | None:
            if isinstance(method, SendMessage) and not fired:
                fired.append(True)
                return error
            return None

        return fail

    method = SendMessage(chat_id=1, text="x")
    session.failures.append(once(TelegramRetryAfter(method, "Flood control", retry_after=3)))
    await dp.feed_update(bot, who.message("/help"))  # the handler's reply hits a 429
    session.failures[:] = [once(TelegramForbiddenError(method, "bot was blocked by the user"))]
    await dp.feed_update(bot, who.message("/help"))
    session.failures[:] = [once(RuntimeError("boom"))]
    await dp.feed_update(bot, who.message("/help"))

    value = metrics.registry.get_sample_value
    assert value("kilt_updates_total", {"type": "message"}) == 4
    assert value("kilt_updates_total", {"type": "callback_query"}) == 1
    assert value("kilt_update_handling_seconds_count", {"type": "message"}) == 4
    assert value("kilt_update_errors_total", {"type": "message"}) == 3
    assert value("kilt_telegram_errors_total", {"code": "429"}) == 1
    assert value("kilt_telegram_errors_total", {"code": "403"}) == 1
    assert value("kilt_updates_in_flight") == 0
    assert life.in_flight == 0 and life.last_update_at is not None

    health = HealthCheck(pool, scheduler, life, polling=False)
    status, text, _ = await get(ops_app(health, metrics), "/metrics")
    assert status == 200
    assert 'kilt_updates_total{type="message"} 4.0' in text
    # Delivery counters exist from the start (0), so dashboards and alerts can rely on them.
    for name in ("kilt_reminders_sent_total", "kilt_reminders_due", "kilt_broadcast_pending",
                 "kilt_pacer_wait_seconds_bucket", "kilt_last_update_timestamp_seconds"):
        assert name in text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_server_also_serves_health_and_metrics(
    dp: Dispatcher, bot: Bot, session: RecordingSession, settings: Settings,
    pool: SessionPool, scheduler: AsyncIOScheduler,
) -> None:
    port = free_port()
    hooked = settings.model_copy(update={
        "webhook_url": "https://bot.example.kz", "webhook_port": port,
        "webhook_secret": SecretStr("s3cret"),
    })
    metrics = dp["metrics"]
    health = HealthCheck(pool, scheduler, Lifecycle(), polling=False)
    stop = asyncio.Event()
    server = asyncio.create_task(serve_webhook(
        bot, dp, hooked, stop, routes=lambda app: add_ops_routes(app, health, metrics)
    ))
    try:
        for _ in range(200):
            if session.sent(SetWebhook):
                break
            await asyncio.sleep(0.02)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200 and (await resp.json())["status"] == "ok"
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert resp.status == 200 and "kilt_updates_total" in await resp.text()
                assert resp.headers["Content-Type"].startswith("text/plain")
    finally:
        stop.set()
        await server
