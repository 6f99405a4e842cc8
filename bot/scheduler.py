"""APScheduler 3 wiring. Jobs are idempotent scans over database rows (the source of truth),
so no APScheduler job store is needed and a restart loses nothing."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
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
    quiet_overruns(scheduler)
    return scheduler


logger = logging.getLogger("bot.scheduler")


class _NoSkipNoise(logging.Filter):
    """APScheduler warns at every interval a slow job is still running; OverrunWatch says it
    once instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)


@dataclass
class OverrunWatch:
    """One line when a job overruns its next start (with how long it has run), one when it
    ends; the skipped starts in between are not logged."""

    clock: Callable[[], float] = time.monotonic
    started: dict[str, float] = field(default_factory=dict)
    overrunning: set[str] = field(default_factory=set)

    def __call__(self, event: JobEvent) -> None:
        job, now = event.job_id, self.clock()
        if event.code == EVENT_JOB_SUBMITTED:
            self.started[job] = now
        elif event.code == EVENT_JOB_MAX_INSTANCES and job not in self.overrunning:
            self.overrunning.add(job)
            logger.warning("%s is overrunning: still running after %.0f s, next runs skipped",
                           job, now - self.started.get(job, now))
        elif event.code in (EVENT_JOB_EXECUTED, EVENT_JOB_ERROR) and job in self.overrunning:
            self.overrunning.discard(job)
            logger.warning("%s finished after %.0f s", job, now - self.started.pop(job, now))


def quiet_overruns(scheduler: AsyncIOScheduler, watch: OverrunWatch | None = None) -> None:
    apscheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _NoSkipNoise) for f in apscheduler_log.filters):
        apscheduler_log.addFilter(_NoSkipNoise())
    codes = EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
    scheduler.add_listener(watch or OverrunWatch(), codes)
