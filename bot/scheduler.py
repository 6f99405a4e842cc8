"""APScheduler 3 wiring. Jobs are idempotent scans over database rows (the source of truth),
so no APScheduler job store is needed and a restart loses nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.context import Clock
from bot.i18n import Translator
from bot.lifecycle import Lifecycle
from bot.metrics import Metrics
from storage.database import SessionPool
from storage.encryption import FieldCipher


@dataclass(frozen=True)
class JobContext:
    """Everything a background job needs; jobs open their own sessions."""

    bot: Bot
    pool: SessionPool
    cipher: FieldCipher
    translator: Translator
    settings: Settings
    clock: Clock
    # The process's metrics (reminders/broadcast counters) and shutdown hooks
    # (`ctx.lifecycle.on_shutdown.append(release_claims)`); fresh ones in tests.
    metrics: Metrics = field(default_factory=Metrics)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)


Registrar = Callable[[AsyncIOScheduler, JobContext], None]

# Feature modules append their `register_jobs` here (one line each, in build_scheduler).
def _registrars() -> list[Registrar]:
    registrars: list[Registrar] = []
    from bot.reminders.engine import register_jobs as reminder_jobs

    registrars.append(reminder_jobs)
    from bot.broadcast.jobs import register_jobs as broadcast_jobs

    registrars.append(broadcast_jobs)
    return registrars


def build_scheduler(ctx: JobContext) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    for register in _registrars():
        register(scheduler, ctx)
    return scheduler
