"""APScheduler 3 wiring. Jobs are idempotent scans over database rows (the source of truth),
so no APScheduler job store is needed and a restart loses nothing."""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.broadcast.jobs import register_jobs as broadcast_jobs
from bot.job_context import JobContext, Registrar
from bot.keys.jobs import register_jobs as key_jobs
from bot.learning import register_jobs as learning_jobs
from bot.reminders.engine import register_jobs as reminder_jobs

# Feature modules' `register_jobs`, one line each.
REGISTRARS: tuple[Registrar, ...] = (reminder_jobs, broadcast_jobs, key_jobs, learning_jobs)


def build_scheduler(ctx: JobContext) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    for register in REGISTRARS:
        register(scheduler, ctx)
    return scheduler
