"""`/healthz` and `/metrics`: on the webhook server, or (polling) on METRICS_PORT when it is set.

`/healthz` answers 200 or 503 with a small JSON body: the database answers `SELECT 1`, Redis
answers PING (when configured), the scheduler runs, the process is not shutting down and — in
polling mode, where a getUpdates answer comes at least every polling timeout — Telegram was heard
from recently. In webhook mode the time of the last update is reported but not judged: a quiet
hour is not an outage. Neither endpoint shows personal data; keep both off the public internet
(the Caddyfile in deploy/ proxies only /webhook).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from apscheduler.schedulers.base import STATE_RUNNING, BaseScheduler
from prometheus_client import CONTENT_TYPE_LATEST

from bot.lifecycle import Lifecycle
from bot.metrics import Metrics
from storage.database import SessionPool, ping

logger = logging.getLogger("bot.health")
CHECK_TIMEOUT = 3.0
# aiogram long-polls with a 10 s timeout: no answer for this long means Telegram is out of reach.
POLLING_SILENCE = 120.0


class HealthCheck:
    def __init__(
        self,
        pool: SessionPool,
        scheduler: BaseScheduler,
        lifecycle: Lifecycle,
        *,
        polling: bool,
        redis_ping: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self.pool, self.scheduler, self.lifecycle = pool, scheduler, lifecycle
        self.polling, self.redis_ping = polling, redis_ping

    async def _ok(self, probe: Callable[[], Awaitable[Any]], name: str) -> bool:
        try:
            await asyncio.wait_for(probe(), CHECK_TIMEOUT)
            return True
        except Exception as exc:  # any failure is "unhealthy"; the type is enough to log
            logger.warning("health check: %s failed (%s)", name, type(exc).__name__)
            return False

    async def report(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body)."""
        life = self.lifecycle
        now = life.wall()
        body: dict[str, Any] = {
            "database": await self._ok(lambda: ping(self.pool), "database"),
            "scheduler": self.scheduler.state == STATE_RUNNING,
            "draining": life.draining,
            "last_update_at": None,
            "last_update_age_s": None,
            "updates_in_flight": life.in_flight,
        }
        if self.redis_ping is not None:
            body["redis"] = await self._ok(self.redis_ping, "redis")
        if life.last_update_at is not None:
            body["last_update_at"] = datetime.fromtimestamp(life.last_update_at, UTC).isoformat(
                timespec="seconds"
            )
            body["last_update_age_s"] = round(now - life.last_update_at, 1)
        healthy = (
            body["database"] and body["scheduler"] and not life.draining
            and body.get("redis", True)
        )
        if self.polling:
            silence = now - (life.last_update_at or life.started_at)
            body["telegram"] = silence <= POLLING_SILENCE
            healthy = healthy and body["telegram"]
        body["status"] = "ok" if healthy else "fail"
        return (200 if healthy else 503), body


def add_ops_routes(app: web.Application, health: HealthCheck, metrics: Metrics) -> None:
    async def healthz(_: web.Request) -> web.Response:
        status, body = await health.report()
        return web.json_response(body, status=status)

    async def prometheus(_: web.Request) -> web.Response:
        # CONTENT_TYPE_LATEST carries a charset; aiohttp wants it apart from the type.
        return web.Response(
            body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)


async def start_ops_server(
    host: str, port: int, health: HealthCheck, metrics: Metrics
) -> web.AppRunner:
    """Polling mode: /healthz and /metrics on their own port; `await runner.cleanup()` stops it."""
    app = web.Application()
    add_ops_routes(app, health, metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
