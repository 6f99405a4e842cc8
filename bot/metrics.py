"""Prometheus metrics, in one registry object built at start-up (served on /metrics).

prometheus-client's idiom is module-level metrics on its global REGISTRY; we keep them in a
`Metrics` object with its own `CollectorRegistry` instead, so tests and several dispatchers in one
process never collide ("Duplicated timeseries") and nothing is created at import time. The
runtime builds one, passes it to the dispatcher (`metrics=`) and to the jobs (`JobContext.metrics`);
delivery code increments e.g. `ctx.metrics.reminders_sent.inc()`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject, Update
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.lifecycle import Lifecycle
from bot.logging_setup import update_context

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
PACER_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0)


class Metrics:
    """Every metric the bot exports; names follow Prometheus conventions (`_total`, `_seconds`)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        # Updates (counted by ObserveUpdates below).
        self.updates = Counter(
            "kilt_updates", "Updates handled, by update type", ["type"], registry=r
        )
        self.update_seconds = Histogram(
            "kilt_update_handling_seconds", "Time from receiving an update to its end "
            "(lock wait included), by update type", ["type"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.update_errors = Counter(
            "kilt_update_errors", "Updates whose handler raised, by update type", ["type"],
            registry=r,
        )
        self.updates_duplicate = Counter(
            "kilt_updates_duplicate", "Re-delivered updates skipped by de-duplication",
            registry=r,
        )
        self.updates_in_flight = Gauge(
            "kilt_updates_in_flight", "Updates being handled now", registry=r
        )
        # Telegram answers (counted by TelegramApiMetrics below, for every sender).
        self.telegram_errors = Counter(
            "kilt_telegram_errors", "Bot API calls refused: 429 (flood control), "
            "403 (blocked by the user)", ["code"], registry=r,
        )
        # Reminders (incremented by the reminder delivery code).
        self.reminders_due = Gauge(
            "kilt_reminders_due", "Reminders due at the last scan", registry=r
        )
        self.reminders_sent = Counter("kilt_reminders_sent", "Reminders delivered", registry=r)
        self.reminders_failed = Counter(
            "kilt_reminders_failed", "Reminders not delivered, by reason (blocked, error, ...)",
            ["reason"], registry=r,
        )
        # Broadcasts (incremented by the broadcast delivery code).
        self.broadcast_recipients = Counter(
            "kilt_broadcast_recipients", "Broadcast recipients processed, by outcome "
            "(sent, blocked, missing, failed, unknown)", ["outcome"], registry=r,
        )
        self.broadcast_pending = Gauge(
            "kilt_broadcast_pending", "Broadcast recipients not processed yet", registry=r
        )
        # The pacer that keeps sends under Telegram's limits.
        self.pacer_wait_seconds = Histogram(
            "kilt_pacer_wait_seconds", "Time a send waited for the pacer", buckets=PACER_BUCKETS,
            registry=r,
        )
        self.last_update_timestamp = Gauge(
            "kilt_last_update_timestamp_seconds",
            "Unix time of the last getUpdates answer or webhook update", registry=r,
        )

    def render(self) -> bytes:
        """The text exposition format for /metrics."""
        return generate_latest(self.registry)


def update_type(update: Update) -> str:
    try:
        return update.event_type
    except Exception:  # aiogram raises for update kinds newer than it knows
        return "unknown"


class ObserveUpdates(BaseMiddleware):
    """Outermost: a correlation id for the logs, in-flight count, counts and latency."""

    def __init__(self, metrics: Metrics, lifecycle: Lifecycle) -> None:
        self.metrics, self.lifecycle = metrics, lifecycle
        # The labelled children, by update type: `.labels()` takes a lock and builds a key.
        self._children: dict[str, tuple[Counter, Histogram]] = {}

    def _for(self, kind: str) -> tuple[Counter, Histogram]:
        children = self._children.get(kind)
        if children is None:
            children = self._children[kind] = (
                self.metrics.updates.labels(kind), self.metrics.update_seconds.labels(kind)
            )
        return children

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        kind = update_type(event)
        # The same id goes into every log line of this update and into the error message the
        # user sees (bot/errors.py reads it from `data`: it runs outside this middleware).
        data["correlation_id"] = cid = os.urandom(4).hex()
        token = update_context.set((cid, event.update_id))
        started = time.perf_counter()
        self.lifecycle.saw_telegram()
        self.metrics.last_update_timestamp.set(self.lifecycle.last_update_at or 0)
        self.metrics.updates_in_flight.inc()
        try:
            async with self.lifecycle.handling():
                return await handler(event, data)
        except Exception:
            self.metrics.update_errors.labels(kind).inc()
            raise
        finally:
            self.metrics.updates_in_flight.dec()
            count, seconds = self._for(kind)
            count.inc()
            seconds.observe(time.perf_counter() - started)
            update_context.reset(token)


class TelegramApiMetrics(BaseRequestMiddleware):
    """Counts 429s and 403s from any sender; a getUpdates answer proves Telegram is reachable."""

    def __init__(self, metrics: Metrics, lifecycle: Lifecycle) -> None:
        self.metrics, self.lifecycle = metrics, lifecycle

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            self.metrics.telegram_errors.labels("429").inc()
            raise
        except TelegramForbiddenError:
            self.metrics.telegram_errors.labels("403").inc()
            raise
        if isinstance(method, GetUpdates):
            self.lifecycle.saw_telegram()
            self.metrics.last_update_timestamp.set(self.lifecycle.last_update_at or 0)
        return response


def install_api_metrics(bot: Bot, metrics: Metrics, lifecycle: Lifecycle) -> None:
    bot.session.middleware(TelegramApiMetrics(metrics, lifecycle))
