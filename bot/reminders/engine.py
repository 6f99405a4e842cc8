"""The reminder scan: due rows → one bundled message per user, exactly once across restarts.

Every scan (APScheduler, every settings.reminder_scan_seconds):
1. recovers claims older than the claim timeout (a crashed scanner's leftovers → pending);
2. reads pending rows with due_at <= now page by page through the (status, due_at) index;
3. per user, keeps the newest row per (key, kind) and marks superseded / too-late ones
   'skipped' (after downtime: one catch-up message, not a burst of stale ones);
4. for users who consented, are not blocked and are inside their delivery window, claims the
   rows atomically (at most CLAIM_USERS users per claim), commits, reads the claim's users and
   keys `senders` × 4 at a time in one transaction, sends one message per user (paced, 429/403
   handled; `senders` users at a time, SENDERS in the bot) and marks that user's rows 'sent' in
   its own commit.

Crash semantics — AT-LEAST-ONCE for the messages in flight. A claim commits before the
send and 'sent' commits right after it. A crash between claim and send leaves rows 'claimed';
they return to 'pending' once older than the claim timeout (checked at start-up and on every
scan) and are sent then: nothing is lost. A crash in the instant between Telegram accepting
the message and the 'sent' commit repeats a message (once); so does a network error in the
middle of a send, when Telegram may have the message (bot/delivery: the rows go back to pending
and the next scan sends again). We prefer that to at-most-once, which would silently drop a
warning that a key is about to expire. A scanner never sends on a claim older than half the
timeout, so a live scanner and a recovery never both send the same row.

Several instances may scan the same database at once (README "Production"): the claim is one
conditional UPDATE, so each row is won by exactly one of them, and a dead instance's claims are
retaken by any other after the timeout (the lease, CLAIM_LEASE_SECONDS). A graceful shutdown
stops after the message in flight and hands this instance's unsent claims back at once
(`release_claims`, a `Lifecycle.on_shutdown` hook), so the others need not wait for the lease.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.context import Clock
from bot.delivery import Pacer
from bot.i18n import Translator
from bot.job_context import JobContext
from bot.metrics import Metrics
from bot.reminders.hooks import plan_user_checkup
from bot.reminders.planning import (
    DueReminder,
    ReminderKind,
    Window,
    bundle_by_user,
    select_deliverable,
)
from bot.reminders.sender import Claim, ReminderSender
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.reminders import Recipient, ReminderRepo, Row
from storage.repositories import Repos

logger = logging.getLogger(__name__)


SENDERS = 4  # users of a claim in flight at once (as the broadcast's workers)


def claim_timeout(scan_seconds: float) -> timedelta:
    """How old a claim must be before recovery: 30 scans, between 20 s and 10 min."""
    return timedelta(seconds=min(max(30 * scan_seconds, 20.0), 600.0))


# Users per claim at most. Small claims spread a scan's users over the instances: each takes
# a claim, sends it and takes the next, while the others take the claims in between (with
# 1000 one instance took a whole scan and the others idled: benchmarks/scale.py).
CLAIM_USERS = 64


def claim_batch_users(rps: float, timeout: timedelta) -> int:
    """Users per claim: what the pacer sends in a quarter of the claim budget (timeout / 2),
    so a batch's last message still goes out on a young claim; at most CLAIM_USERS."""
    return max(1, min(CLAIM_USERS, int(rps * timeout.total_seconds() / 8)))


@lru_cache(maxsize=4096)
def _window_open(tz: str, start: int, end: int, now: datetime) -> bool:
    # Users share a few (zone, window) pairs: one zone conversion per pair and scan moment.
    local = now.astimezone(ZoneInfo(tz)).time()
    return Window.from_minutes(start, end).contains(local)


def deliverable_now(user: Recipient, now: datetime) -> bool:
    if user.blocked or not user.consented:
        return False
    return _window_open(user.timezone, user.window_start, user.window_end, now)


@dataclass
class ScanReport:
    counts: Counter[str] = field(default_factory=Counter)

    def __getitem__(self, outcome: str) -> int:
        return self.counts[outcome]


class ReminderEngine:
    def __init__(
        self, bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
        clock: Clock, pacer: Pacer, *, timeout: timedelta = timedelta(minutes=10),
        page_size: int = 2000, batch_users: int = 1000, metrics: Metrics | None = None,
        stopping: Callable[[], bool] = lambda: False, senders: int = 1,
    ) -> None:
        self.pool, self.cipher, self.clock = pool, cipher, clock
        self.metrics, self.stopping = metrics or Metrics(), stopping
        # Claims of this process not finished yet: released at shutdown (release_claims).
        self.active: dict[str, Claim] = {}
        self._due = 0  # rows found due by the current scan (the reminders_due gauge)
        self.timeout, self.page_size, self.batch_users = timeout, page_size, batch_users
        # Users of a claim sent at once: the pacer keeps the rate, this hides the round trips
        # (database, Redis, Telegram) that a one-at-a-time loop waits out in series.
        self.senders = senders
        self.sender = ReminderSender(
            bot, pool, cipher, translator, pacer, claim_budget=timeout.total_seconds() / 2
        )

    async def recover(self) -> int:
        """Claims older than the timeout belong to a scanner that died: back to pending."""
        async with self.pool() as session:
            released = await ReminderRepo(session).release_stale(self.clock() - self.timeout)
            await session.commit()
        if released:
            logger.warning("reminders: recovered %d claims left by an interrupted scan", released)
        return released

    async def claimed_batches(self, now: datetime) -> AsyncGenerator[Claim, None]:
        """Decide and claim, a batch of users at a time (lazily: the caller sends in between,
        so a claim is young when its message goes out). Skips are committed as found."""
        after: tuple[datetime, int] | None = None
        seen: set[int] = set()  # at most one message per user per scan
        while True:
            async with self.pool() as session:
                repo = ReminderRepo(session)
                page = await repo.due_page(now, after, self.page_size)
                if not page:
                    return
                after = (page[-1][5], page[-1][0])
                users = sorted({row[1] for row in page} - seen)
                seen.update(users)
                # A user first met in this page had no due row before it (they would be in
                # `seen`): their rows are the page's plus, if the range goes on, later ones.
                wanted = set(users)
                rows = [r for r in page if r[1] in wanted]
                if len(page) == self.page_size:
                    rows += await repo.due_for_users(users, now, after)
                self._due += len(rows)
                ready = await self._decide(repo, users, rows, now)
                await session.commit()
            for i in range(0, len(ready), self.batch_users):
                yield await self._claim(ready[i : i + self.batch_users])

    async def _decide(
        self, repo: ReminderRepo, users: list[int], found: list[Row], now: datetime
    ) -> list[list[DueReminder]]:
        rows = [DueReminder(*r) for r in found]
        recipients = await repo.recipients(users)
        to_send, to_skip = select_deliverable(rows, now)
        await repo.skip([r.id for r in to_skip])
        return [
            bundle for uid, bundle in bundle_by_user(to_send).items()
            if uid in recipients and deliverable_now(recipients[uid], now)
        ]

    async def _claim(self, bundles: list[list[DueReminder]]) -> Claim:
        token = uuid.uuid4().hex
        ids = [r.id for bundle in bundles for r in bundle]
        async with self.pool() as session:
            won = set(await ReminderRepo(session).claim(ids, token, self.clock()))
            await session.commit()
        by_user = {b[0].user_id: [r for r in b if r.id in won] for b in bundles}
        return Claim(token, time.monotonic(), {u: rs for u, rs in by_user.items() if rs})

    async def scan(self) -> ScanReport:
        report = ScanReport()
        if self.stopping():
            return report
        report.counts["recovered"] = await self.recover()
        now = self.clock()
        self._due = 0
        async with aclosing(self.claimed_batches(now)) as batches:
            async for claim in batches:
                # Kept in `active` while sending: a scan cancelled at shutdown leaves it there
                # for release_claims; any other ending forgets it.
                self.active[claim.token] = claim
                try:
                    stop = await self._send_claim(claim, now, report)
                except asyncio.CancelledError:
                    raise
                except BaseException:
                    self.active.pop(claim.token, None)
                    raise
                self.active.pop(claim.token, None)
                if stop:
                    break
        self.metrics.reminders_due.set(self._due)
        if report.counts["sent"] or report.counts["retry"] or report.counts["blocked"]:
            logger.info("reminder scan: %s", dict(sorted(report.counts.items())))
        return report

    async def _send_claim(self, claim: Claim, now: datetime, report: ScanReport) -> bool:
        """Send a claim's messages, `senders` users at a time; True = stop the scan (Telegram
        unreachable or too slow, or shutting down): no user is started after that. Users are
        read a chunk at a time (`senders` × 4 in one transaction), just before their sends."""
        users = list(claim.by_user)
        unsent: list[int] = []  # users whose rows go back to pending
        halt = False
        chunk = max(1, self.senders * 4)
        for start in range(0, len(users), chunk):
            part = users[start : start + chunk]
            if halt or self.stopping():
                unsent.extend(part)
                if not halt:
                    report.counts["stopped"] += 1  # as the sender loop counts a stop
                halt = True
                continue
            halt = await self._send_users(claim, part, now, report, unsent)
        if unsent:
            rest = [r.id for u in unsent for r in claim.by_user[u]]
            async with self.pool() as session:
                await ReminderRepo(session).release(rest, claim.token)
                await session.commit()
        return halt

    async def _send_users(
        self, claim: Claim, users: list[int], now: datetime, report: ScanReport,
        unsent: list[int],
    ) -> bool:
        ready = await self.sender.load(claim, users)
        queue = iter(users)
        halt = False

        async def sender() -> None:
            nonlocal halt
            for user_id in queue:
                if halt:
                    unsent.append(user_id)
                    continue
                if self.stopping():
                    outcome = "stopped"  # shutting down: nothing sent, the rest handed back
                    unsent.append(user_id)
                else:
                    # "retry" has released this user's rows itself (ReminderSender.deliver).
                    outcome = await self.sender.deliver(claim, ready.get(user_id), now)
                    self._count(outcome)
                report.counts[outcome] += 1
                halt = halt or outcome in ("retry", "stopped")

        # One sender runs in this task, so an error (or a crash in a test) surfaces as is.
        others = [asyncio.create_task(sender()) for _ in range(self.senders - 1)]
        try:
            await sender()
            await asyncio.gather(*others)
        finally:
            for task in others:  # one failed, or the scan is cancelled: none goes on alone
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
        return halt

    def _count(self, outcome: str) -> None:
        if outcome == "sent":
            self.metrics.reminders_sent.inc()
        elif outcome != "skipped":
            self.metrics.reminders_failed.labels(outcome).inc()

    async def release_claims(self) -> None:
        """Shutdown hook: this instance's claims that were not sent go back to pending now."""
        released = 0
        for claim in list(self.active.values()):
            ids = [r.id for rows in claim.by_user.values() for r in rows]
            async with self.pool() as session:
                released += await ReminderRepo(session).release(ids, claim.token)
                await session.commit()
        self.active.clear()
        if released:
            logger.info("reminders: handed back %d claimed reminders at shutdown", released)

    async def ensure_checkups(self, limit: int = 1000) -> int:
        """Plan the periodic check-up of users who have none (new consents, mode changes)."""
        async with self.pool() as session:
            repos = Repos.build(session, self.cipher)
            user_ids = await repos.reminders.users_without(ReminderKind.CHECKUP, limit)
            for user_id in user_ids:
                user = await repos.users.get(user_id)
                if user is not None:
                    await plan_user_checkup(repos, user, self.clock())
            await session.commit()
        return len(user_ids)


def register_jobs(scheduler: AsyncIOScheduler, ctx: JobContext) -> None:
    """Scheduler registrar (bot/scheduler.py): the scan, and check-up planning every 30 min."""
    seconds = ctx.settings.reminder_scan_seconds
    timeout = ctx.settings.claim_lease(claim_timeout(seconds))
    engine = ReminderEngine(
        ctx.bot, ctx.pool, ctx.cipher, ctx.translator, ctx.clock, ctx.pacer,
        timeout=timeout, batch_users=claim_batch_users(ctx.pacer.rate(), timeout),
        metrics=ctx.metrics, stopping=lambda: ctx.lifecycle.draining, senders=SENDERS,
    )
    ctx.lifecycle.on_shutdown.append(engine.release_claims)
    start = ctx.clock()  # the first scan at start-up also recovers a crashed run's claims
    scheduler.add_job(engine.scan, "interval", seconds=seconds, next_run_time=start,
                      id="reminder-scan", max_instances=1, coalesce=True)
    scheduler.add_job(engine.ensure_checkups, "interval", minutes=30, next_run_time=start,
                      id="reminder-checkups", max_instances=1, coalesce=True)
