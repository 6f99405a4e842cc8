"""Learning from real questions: taught phrasings into the QA service, and the retention purge.

Taught phrasings live in the database; each process keeps them in its QA service. The admin's
own process learns at once (handlers/teach.py); other instances pick changes up within
REFRESH_SECONDS by polling a cheap fingerprint of the table.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.job_context import JobContext
from bot.qa.service import QAService
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.repositories import Repos

logger = logging.getLogger(__name__)
REFRESH_SECONDS = 120


class LearnedLoader:
    """Loads every taught phrasing into a QA service, again only when the table changed."""

    def __init__(self, qa: QAService, pool: SessionPool, cipher: FieldCipher) -> None:
        self.qa, self.pool, self.cipher = qa, pool, cipher
        self._seen: tuple[int, int, datetime | None] | None = None

    async def refresh(self) -> bool:
        """Reload if anything changed since the last load; True when it reloaded."""
        async with self.pool() as session:
            repos = Repos.build(session, self.cipher)
            mark = await repos.learned.fingerprint()
            if mark == self._seen:
                return False
            rows = await repos.learned.list()
        self.qa.load_learned([(r.text, r.topic, r.lang) for r in rows])
        self._seen = mark
        logger.info("learned phrasings loaded: %d", len(rows))
        return True


def schedule_refresh(scheduler: AsyncIOScheduler, loader: LearnedLoader) -> None:
    scheduler.add_job(loader.refresh, "interval", seconds=REFRESH_SECONDS,
                      id="learned-refresh", coalesce=True, max_instances=1)


async def purge_unanswered(ctx: JobContext) -> int:
    """Delete unanswered questions older than UNANSWERED_RETENTION_DAYS; how many went."""
    before = ctx.clock() - timedelta(days=ctx.settings.unanswered_retention_days)
    async with ctx.pool() as session:
        removed = await Repos.build(session, ctx.cipher).questions.purge_unanswered(before)
        await session.commit()
    if removed:
        logger.info("unanswered questions past retention deleted: %d", removed)
    return removed


def register_jobs(scheduler: AsyncIOScheduler, ctx: JobContext) -> None:
    """Scheduler registrar (bot/scheduler.py): the purge at start-up and then daily."""
    scheduler.add_job(purge_unanswered, "interval", days=1, next_run_time=ctx.clock(),
                      args=(ctx,), id="unanswered-purge", coalesce=True, max_instances=1)
