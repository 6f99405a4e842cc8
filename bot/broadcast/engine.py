"""The delivery engine: persisted recipients, paced concurrent workers, resumable, never twice.

Each delivery row goes pending → claimed (committed) → one send → sent/blocked/… (committed).
The claim is taken right after the pacer grants a slot, so only the message in flight sits in
the window between "Telegram accepted it" and "the row says sent". If the process dies there
(kill -9, power loss), the row stays `claimed`; once older than `stale_after` it becomes `unknown`
and is never sent again: at most one message per worker may be missed, none is ever duplicated.
Everything still `pending` is picked up by the next run (scheduler job at start-up and every
minute), so a restart skips nobody else.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot

from bot.broadcast.pacing import Pacer
from bot.broadcast.report import Reporter
from bot.broadcast.sender import Outcome, send_paced
from bot.config import Settings
from bot.context import Clock
from bot.i18n import Translator
from storage.broadcasts import BroadcastDTO, Counts, Recipient
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.repositories import Repos

logger = logging.getLogger(__name__)

# allow_paid_broadcast lifts Telegram's ~30 msg/s cap (up to 1000/s, paid in Stars).
PAID_RPS = 100.0
BATCH = 200


class BroadcastEngine:
    """Runs broadcasts as tasks of this process; one engine per session pool (engine_for)."""

    def __init__(
        self, bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
        settings: Settings, clock: Clock, *, workers: int = 4, progress_every: float = 5.0,
        stale_after: timedelta = timedelta(minutes=2), rps: float | None = None,
    ) -> None:
        self.bot, self.pool, self.cipher, self.clock = bot, pool, cipher, clock
        self.tz = ZoneInfo(settings.bot_timezone)
        self.workers, self.stale_after = workers, stale_after
        self.rps = rps or settings.broadcast_rps
        self.paid_rps = max(PAID_RPS, self.rps)
        self.pacer = Pacer(global_rps=self.rps)
        self.paid_pacer = Pacer(global_rps=self.paid_rps)
        self.reporter = Reporter(bot, translator, progress_every)
        self.tasks: dict[int, asyncio.Task[Counts | None]] = {}

    def repos(self, session: object) -> Repos:
        return Repos.build(session, self.cipher)  # type: ignore[arg-type]

    def start(self, broadcast_id: int) -> asyncio.Task[Counts | None]:
        """Run the broadcast in the background unless this process already runs it."""
        task = self.tasks.get(broadcast_id)
        if task is None or task.done():
            task = asyncio.create_task(self.run(broadcast_id), name=f"broadcast-{broadcast_id}")
            self.tasks[broadcast_id] = task
        return task

    async def resume_due(self) -> list[int]:
        """Start every due scheduled broadcast and resume every running one."""
        async with self.pool() as session:
            ids = await self.repos(session).broadcasts.due(self.clock())
        for broadcast_id in ids:
            self.start(broadcast_id)
        return ids

    async def wait_idle(self) -> None:
        while pending := [t for t in self.tasks.values() if not t.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def run(self, broadcast_id: int) -> Counts | None:
        b = await self._begin(broadcast_id)
        if b is None:
            return None
        pacer = self.paid_pacer if b.paid else self.pacer
        queue: asyncio.Queue[Recipient | None] = asyncio.Queue(maxsize=self.workers * 4)
        tasks = [asyncio.create_task(self._worker(b, queue, pacer)) for _ in range(self.workers)]
        tasks.append(asyncio.create_task(self._produce(b.id, queue)))
        progress = asyncio.create_task(self.reporter.loop(self, b, pacer))
        try:
            # A dead task (a bug, or a simulated crash) must stop the run, not hang the queue.
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in (*tasks, progress):
                task.cancel()
        return await self._conclude(b, pacer)

    async def _begin(self, broadcast_id: int) -> BroadcastDTO | None:
        now = self.clock()
        async with self.pool() as session:
            repos = self.repos(session)
            b = await repos.broadcasts.get(broadcast_id)
            if b is None or b.status not in ("scheduled", "running"):
                return None
            if b.status == "scheduled":
                if b.scheduled_at is not None and b.scheduled_at > now:
                    return None
                today = now.astimezone(self.tz).date()
                recipients = await repos.broadcasts.start(broadcast_id, now, today)
                if recipients is None:
                    return None  # another process started it first
                await repos.broadcasts.audit(
                    None, "broadcast.start", {"id": broadcast_id, "recipients": recipients}, now
                )
                await session.commit()
                b = await repos.broadcasts.get(broadcast_id)
        if b is not None:
            await self.reporter.open(self, b)
        return b

    async def _produce(self, broadcast_id: int, queue: asyncio.Queue[Recipient | None]) -> None:
        after = 0
        while True:
            async with self.pool() as session:
                repos = self.repos(session)
                b = await repos.broadcasts.get(broadcast_id)
                if b is None or b.status != "running":
                    break  # cancelled: workers finish what they hold, claims fail after that
                batch = await repos.broadcasts.next_recipients(broadcast_id, after, BATCH)
            if not batch:
                break
            for recipient in batch:
                await queue.put(recipient)
            after = batch[-1].delivery_id
        for _ in range(self.workers):
            await queue.put(None)  # one stop signal per worker

    async def _worker(
        self, b: BroadcastDTO, queue: asyncio.Queue[Recipient | None], pacer: Pacer
    ) -> None:
        while (recipient := await queue.get()) is not None:
            try:
                await self._deliver(b, recipient, pacer)
            except Exception as exc:  # noqa: BLE001 - one bad row must not stop the broadcast
                # The row stays claimed and becomes `unknown`: better than a possible duplicate.
                logger.error("broadcast %s delivery failed: %s", b.id, type(exc).__name__)

    async def _deliver(self, b: BroadcastDTO, r: Recipient, pacer: Pacer) -> None:
        if not r.eligible:
            async with self.pool() as session:
                await self.repos(session).broadcasts.settle(r.delivery_id, "excluded", self.clock())
                await session.commit()
            return
        await pacer.acquire(r.chat_id)
        async with self.pool() as session:
            if not await self.repos(session).broadcasts.claim(r.delivery_id, self.clock()):
                return  # another process took it, or the broadcast was cancelled
            await session.commit()
        outcome, error = await send_paced(
            self.bot, pacer, r.chat_id, b.text(r.lang), paid=b.paid, acquired=True
        )
        now = self.clock()
        async with self.pool() as session:
            repos = self.repos(session)
            status = "pending" if outcome is Outcome.RETRY else outcome.value
            await repos.broadcasts.settle(r.delivery_id, status, now, error)
            if outcome in (Outcome.BLOCKED, Outcome.MISSING):
                await repos.users.mark_blocked(r.user_id, now)
            await session.commit()

    async def _conclude(self, b: BroadcastDTO, pacer: Pacer) -> Counts:
        now = self.clock()
        async with self.pool() as session:
            repos = self.repos(session)
            await repos.broadcasts.expire_claims(b.id, now - self.stale_after)
            finished = await repos.broadcasts.finish(b.id, now)
            counts = await repos.broadcasts.counts(b.id)
            if finished:
                await repos.broadcasts.audit(
                    None, "broadcast.done", {"id": b.id, **counts.by_status}, now
                )
            await session.commit()
        if finished:
            await self.reporter.final(self, b, counts, pacer)
        return counts


_engines: weakref.WeakKeyDictionary[SessionPool, BroadcastEngine] = weakref.WeakKeyDictionary()


def engine_for(
    bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    settings: Settings, clock: Clock,
) -> BroadcastEngine:
    """The engine of this process for this database, shared by the admin dialog and the
    scheduler so a broadcast never runs twice in one process."""
    engine = _engines.get(pool)
    if engine is None:
        engine = _engines[pool] = BroadcastEngine(bot, pool, cipher, translator, settings, clock)
    return engine
