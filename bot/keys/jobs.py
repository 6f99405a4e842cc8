"""Background work of the key registry: forgetting old idempotency claims once a day."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.context import Clock
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.repositories import Repos

if TYPE_CHECKING:
    from bot.job_context import JobContext

logger = logging.getLogger(__name__)
# A double tap is seconds apart; a month also covers a stale button on a deleted key.
CLAIMS_KEPT = timedelta(days=30)


async def purge_claims(pool: SessionPool, cipher: FieldCipher, clock: Clock) -> int:
    """Delete action claims older than CLAIMS_KEPT; returns how many went."""
    async with pool() as session:
        purged = await Repos.build(session, cipher).claims.purge(clock() - CLAIMS_KEPT)
        await session.commit()
    logger.info("purged %d old action claims", purged)
    return purged


def register_jobs(scheduler: AsyncIOScheduler, ctx: JobContext) -> None:
    """Scheduler registrar (bot/scheduler.py): the purge, daily at a quiet hour."""
    scheduler.add_job(
        purge_claims, CronTrigger(hour=4, minute=20, timezone=ctx.settings.bot_timezone),
        args=(ctx.pool, ctx.cipher, ctx.clock), id="claims-purge", coalesce=True,
        max_instances=1, misfire_grace_time=12 * 3600,
    )
