"""Scheduler jobs: resume/start broadcasts, the weekly tip and the 28 January campaign."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.broadcast.tips import TipsLibrary, load_tips
from bot.constants import KZ_TZ, LANGUAGES
from bot.delivery import Outcome, Policy, send_with_retry
from bot.i18n import LOCALES_DIR
from bot.job_context import JobContext
from storage.broadcasts import Audience
from storage.repositories import Repos
from storage.weekly_tips import TipRecipient, WeeklyTipsRepo

logger = logging.getLogger(__name__)

CAMPAIGN = "data-protection-day"  # 28 January, Data Protection Day
WEEK_GAP = timedelta(days=6)  # a re-run within the week sends nobody a second tip
TIP_SENDERS = 4  # tips in flight at once: the pacer keeps the rate, this hides latency
# A tip is recorded before it is sent, so anything but SENT is one lost tip (never a repeat).
TIP_POLICY = Policy(max_attempts=9, connect_retries=3, backoff=0.5)


async def send_weekly_tips(ctx: JobContext, library: TipsLibrary) -> int:
    """One rotation tip to every user who wants them and has had none this week."""
    now, after, sent = ctx.clock(), 0, 0
    while True:
        async with ctx.pool() as session:
            batch = await WeeklyTipsRepo(session, ctx.cipher).due(now - WEEK_GAP, after, 50)
        if not batch:
            return sent
        after = batch[-1].user_id
        for i in range(0, len(batch), TIP_SENDERS):
            chunk = batch[i : i + TIP_SENDERS]
            results = await asyncio.gather(*(_tip(ctx, library, r) for r in chunk))
            sent += sum(results)


async def _tip(ctx: JobContext, lib: TipsLibrary, r: TipRecipient) -> bool:
    now = ctx.clock()
    async with ctx.pool() as session:
        repo = WeeklyTipsRepo(session, ctx.cipher)
        rnd, seen = await repo.current_round(r.user_id)
        tip_id, reset = lib.next_tip_cycle(seen, order_seed=r.user_id)
        if not await repo.record(r.user_id, tip_id, rnd + 1 if reset else rnd, now):
            return False
        await session.commit()  # recorded before sending: a crash loses one tip, never repeats
    text = lib.text(tip_id, r.lang) + "\n\n" + ctx.translator.get(r.lang, "broadcast-weekly-footer")
    result = await send_with_retry(ctx.bot, ctx.pacer, r.chat_id, text, TIP_POLICY)
    if result.outcome in (Outcome.BLOCKED, Outcome.CHAT_NOT_FOUND):
        async with ctx.pool() as session:
            await Repos.build(session, ctx.cipher).users.mark_blocked(r.user_id, now)
            await session.commit()
    return result.outcome is Outcome.SENT


async def create_campaign(ctx: JobContext, library: TipsLibrary, now: datetime) -> int | None:
    """On 28 January (Almaty) create and start this year's campaign broadcast, once a year."""
    local = now.astimezone(KZ_TZ)
    tips = library.campaign(CAMPAIGN)
    if (local.month, local.day) != (1, 28) or not tips:
        return None
    key = f"{CAMPAIGN}-{local.year}"
    tip = tips[local.year % len(tips)]
    admin_chat = ctx.settings.admin_ids[0] if ctx.settings.admin_ids else None
    async with ctx.pool() as session:
        repos = Repos.build(session, ctx.cipher)
        if await repos.broadcasts.campaign_exists(key):
            return None
        texts: dict[str, str] = {lang: tip.text(lang) for lang in LANGUAGES}
        broadcast_id = await repos.broadcasts.create(
            None, texts, Audience(kind="all", campaign=key), now, now, progress_chat=admin_chat
        )
        await repos.broadcasts.audit(None, "campaign.create", {"id": broadcast_id, "tip": tip.id,
                                                               "campaign": key}, now)
        await session.commit()
    ctx.broadcasts.start(broadcast_id)
    return broadcast_id


async def campaign_job(ctx: JobContext, library: TipsLibrary) -> None:
    await create_campaign(ctx, library, ctx.clock())


def register_jobs(scheduler: AsyncIOScheduler, ctx: JobContext) -> None:
    library = load_tips(LOCALES_DIR)
    # At start-up and every minute: running broadcasts resume after a crash, due ones start.
    scheduler.add_job(ctx.broadcasts.resume_due, "interval", minutes=1,
                      next_run_time=ctx.clock(), id="broadcast-resume", coalesce=True,
                      max_instances=1)
    scheduler.add_job(
        send_weekly_tips,
        CronTrigger(day_of_week="mon", hour=11, timezone=ctx.settings.bot_timezone),
        args=(ctx, library), id="weekly-tip", coalesce=True, max_instances=1,
        misfire_grace_time=6 * 3600,
    )
    scheduler.add_job(
        campaign_job, CronTrigger(month=1, day=28, hour=11, timezone=KZ_TZ),
        args=(ctx, library), id="campaign-28-jan",
        coalesce=True, max_instances=1, misfire_grace_time=12 * 3600,
    )
