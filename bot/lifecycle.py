"""What a graceful shutdown needs: updates in flight, running jobs, and hooks to release work.

`Lifecycle` is built once per process in bot/runtime.py and handed to the dispatcher (which counts
updates in flight) and to the scheduler's jobs (`JobContext.lifecycle`). On SIGTERM the runtime
stops taking updates, waits for the ones in flight, stops the scheduler after its running jobs,
then awaits every `on_shutdown` hook — the place where background work (a delivery engine, a
broadcast worker) releases its claimed rows — and only then closes the sessions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler

logger = logging.getLogger("bot.lifecycle")

ShutdownHook = Callable[[], Awaitable[None]]


class Lifecycle:
    """Updates in flight, liveness for /healthz, and the shutdown hooks, for one process."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self.wall = wall
        self.started_at = wall()
        # The time of the last getUpdates answer or webhook update (wall clock, for /healthz).
        self.last_update_at: float | None = None
        self.draining = False
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # Background work appends `async def release() -> None` here; each runs once at shutdown.
        self.on_shutdown: list[ShutdownHook] = []

    def saw_telegram(self) -> None:
        self.last_update_at = self.wall()

    @asynccontextmanager
    async def handling(self) -> AsyncIterator[None]:
        """Counts one update in flight for as long as the block runs."""
        self.in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def wait_idle(self, seconds: float) -> bool:
        """True when no update is in flight any more, False if `seconds` ran out first."""
        await asyncio.sleep(0)  # let tasks created just before the stop enter `handling`
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def run_shutdown_hooks(self, seconds: float) -> None:
        """Each hook once, in order; one failing or hanging hook does not stop the others."""
        hooks, self.on_shutdown = self.on_shutdown, []
        for hook in hooks:
            try:
                await asyncio.wait_for(hook(), seconds)
            except TimeoutError:
                logger.warning("shutdown hook %s timed out", getattr(hook, "__qualname__", hook))
            except Exception:
                logger.exception("shutdown hook %s failed", getattr(hook, "__qualname__", hook))


class RunningJobs:
    """Ids of scheduler jobs running now, from APScheduler's own events (its asyncio executor
    cancels running coroutines on shutdown, so we wait for them first)."""

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        self.ids: set[str] = set()
        self._changed = asyncio.Event()
        scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        scheduler.add_listener(self._finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _submitted(self, event: JobSubmissionEvent) -> None:
        self.ids.add(event.job_id)

    def _finished(self, event: JobExecutionEvent) -> None:
        self.ids.discard(event.job_id)  # max_instances=1: one run per id at a time
        self._changed.set()

    async def wait_done(self, seconds: float) -> bool:
        deadline = asyncio.get_running_loop().time() + seconds
        while self.ids:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return False
        return True


async def stop_scheduler(scheduler: AsyncIOScheduler, jobs: RunningJobs, seconds: float) -> None:
    """No new runs; running jobs get `seconds` to finish, then they are cancelled."""
    if not scheduler.running:
        return
    scheduler.pause()
    if not await jobs.wait_done(seconds):
        logger.warning("scheduler jobs still running at shutdown: %s", sorted(jobs.ids))
    scheduler.shutdown(wait=False)  # cancels what still runs
    # Let the cancelled jobs unwind (their `finally` blocks) before the sessions close.
    await jobs.wait_done(1.0)
