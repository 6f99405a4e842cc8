"""The delivery engine: persisted recipients, paced concurrent workers, resumable, never twice.

Each delivery row goes pending → reserved (a batch, one statement) → claimed (committed) → one
send → sent/blocked/… (written with other outcomes, FLUSH_EVERY rows or FLUSH_SECONDS at a time).
A worker claims one reserved row, then waits for its pacer slot and sends, so each worker holds
at most one claim whose send may be in flight. If the process dies (kill -9, power loss), that
row stays `claimed`; once older than `stale_after` it becomes `unknown` and is never sent again
(so does a sent row whose outcome was not written yet: its recipient has it). A network error in
the middle of the request (timeout, dropped connection, 5xx) is the same window without a crash:
the row is `unknown` at once, not re-sent. So a recipient gets a broadcast at most once; at most
one message per worker may be missed in a crash. A connection that could not even be opened sent
nothing: retried a few times, then the row goes back to `pending`. Everything still `pending` is
picked up by the next run (scheduler job at start-up and every minute), so a restart skips
nobody else.

Several instances run the same broadcast side by side (each resumes running broadcasts every
minute): a reservation is one `UPDATE … FOR UPDATE SKIP LOCKED` on PostgreSQL, so instances take
disjoint batches (before, each read the same pending rows in the same order and they fought over
every row, measured by benchmarks/scale.py). A dead instance's reservations were never sent: after
`stale_after` (the lease) they go back to `pending`; its claims become `unknown` as above. A
graceful shutdown (`stop`, a `Lifecycle.on_shutdown` hook) takes no new rows, lets the sends in
flight finish, and hands back (to `pending`) any row it reserved or claimed but never sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot

from bot.broadcast.report import Reporter
from bot.config import Settings
from bot.context import Clock
from bot.delivery import Outcome, Pacer, Policy, send_with_retry
from bot.i18n import Translator
from bot.metrics import Metrics
from storage.broadcasts import (
    ACTIVE,
    BroadcastDTO,
    BroadcastStatus,
    Counts,
    DeliveryStatus,
    Recipient,
)
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.repositories import Repos

logger = logging.getLogger(__name__)

# Outcomes written together (see Outcomes): at most this many rows, or this old.
FLUSH_EVERY = 16
FLUSH_SECONDS = 0.5
# A long 429 storm hands the row back to the queue instead of holding its claim; a connection
# that cannot be opened is retried briefly. Network errors mid-request are never retried.
POLICY = Policy(max_attempts=9, connect_retries=3, backoff=0.5)
STATUS = {
    Outcome.SENT: DeliveryStatus.SENT,
    Outcome.BLOCKED: DeliveryStatus.BLOCKED,
    Outcome.CHAT_NOT_FOUND: DeliveryStatus.MISSING,
    Outcome.REJECTED: DeliveryStatus.FAILED,
    Outcome.UNKNOWN: DeliveryStatus.UNKNOWN,  # Telegram may have it: never sent again
    Outcome.RETRY_LATER: DeliveryStatus.PENDING,  # Telegram does not have it: the next run sends it
}


class Outcomes:
    """Outcomes of one run's sends, written together: one transaction per FLUSH_EVERY rows (or
    FLUSH_SECONDS) instead of one per message. Until written a sent row still reads `claimed`,
    so a crash there reports it `unknown` (it was sent: the recipient has it, never twice)."""

    def __init__(self, engine: BroadcastEngine) -> None:
        self.engine = engine
        self.rows: list[tuple[int, str, str | None]] = []
        self.blocked: list[int] = []
        self.first = 0.0
        self.lock = asyncio.Lock()

    async def add(self, r: Recipient, status: str, error: str | None, outcome: Outcome) -> None:
        if not self.rows:
            self.first = time.monotonic()
        self.rows.append((r.delivery_id, status, error))
        if outcome in (Outcome.BLOCKED, Outcome.CHAT_NOT_FOUND):
            self.blocked.append(r.user_id)
        if len(self.rows) >= FLUSH_EVERY or time.monotonic() - self.first >= FLUSH_SECONDS:
            # Shielded: a worker cancelled at shutdown must not drop the rows it took to write.
            await asyncio.shield(self.flush())

    async def flush(self, release: list[int] | None = None) -> None:
        async with self.lock:
            rows, blocked = self.rows, self.blocked
            self.rows, self.blocked = [], []
            if not rows and not release:
                return
            now = self.engine.clock()
            async with self.engine.pool() as session:
                repos = self.engine.repos(session)
                await repos.broadcasts.settle_many(rows, now)
                for user_id in blocked:
                    await repos.users.mark_blocked(user_id, now)
                if release:
                    await repos.broadcasts.release(release)
                await session.commit()


class BroadcastEngine:
    """Runs broadcasts as tasks of this process. Built once at start-up and shared by the admin
    dialog and the scheduler, so a broadcast never runs twice in one process."""

    def __init__(
        self, bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
        settings: Settings, clock: Clock, pacer: Pacer, *, workers: int = 4,
        progress_every: float = 5.0, stale_after: timedelta = timedelta(minutes=2),
        policy: Policy = POLICY, metrics: Metrics | None = None,
    ) -> None:
        self.bot, self.pool, self.cipher, self.clock = bot, pool, cipher, clock
        self.tz = ZoneInfo(settings.bot_timezone)
        self.workers, self.stale_after = workers, stale_after
        self.pacer, self.policy = pacer, policy
        self.reporter = Reporter(bot, pool, cipher, translator, pacer, progress_every)
        self.tasks: dict[int, asyncio.Task[Counts | None]] = {}
        self.metrics = metrics or Metrics()
        self.stopping = False
        # A row claimed before this process started was claimed by a sender that is gone (or
        # by a live instance, whose own later settle then overwrites `unknown`).
        self.started_at = clock()

    def repos(self, session: object) -> Repos:
        return Repos.build(session, self.cipher)  # type: ignore[arg-type]

    def start(self, broadcast_id: int) -> asyncio.Task[Counts | None]:
        """Run the broadcast in the background unless this process already runs it."""
        task = self.tasks.get(broadcast_id)
        if self.stopping and task is not None:
            return task
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

    async def stop(self, grace: float = 5.0) -> None:
        """Shutdown hook: no new rows; sends in flight get `grace` seconds, then are cancelled
        (a row cancelled before its request started goes back to pending, see _deliver)."""
        self.stopping = True
        running = [t for t in self.tasks.values() if not t.done()]
        if not running:
            return
        _, late = await asyncio.wait(running, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def wait_idle(self) -> None:
        while pending := [t for t in self.tasks.values() if not t.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def run(self, broadcast_id: int) -> Counts | None:
        b = await self._begin(broadcast_id)
        if b is None:
            return None
        queue: asyncio.Queue[Recipient | None] = asyncio.Queue(maxsize=self.workers * 4)
        held: set[int] = set()  # rows reserved by this run and not claimed yet
        outcomes = Outcomes(self)
        tasks = [asyncio.create_task(self._worker(b, queue, held, outcomes))
                 for _ in range(self.workers)]
        tasks.append(asyncio.create_task(self._produce(b.id, queue, held)))
        progress = asyncio.create_task(self.reporter.loop(b))
        try:
            # A dead task (a bug, or a simulated crash) must stop the run, not hang the queue.
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in (*tasks, progress):
                task.cancel()
            # A worker cancelled while waiting for its pacer slot hands its claimed row back
            # (see _deliver); wait for that, so a stopped run leaves nothing claimed.
            await asyncio.gather(*tasks, progress, return_exceptions=True)
            # Outcomes not yet written, and reserved rows never started, go to the database.
            await asyncio.shield(outcomes.flush(release=sorted(held)))
        counts = await self._conclude(b)
        if counts.remaining and not self.stopping:
            # Rows claimed or reserved by a sender that is gone (or still busy elsewhere): look
            # again once their lease is over, rather than at the next resume a minute later.
            asyncio.get_running_loop().call_later(
                self.stale_after.total_seconds() + 0.5, self._recheck, broadcast_id
            )
        return counts

    def _recheck(self, broadcast_id: int) -> None:
        if not self.stopping:
            self.start(broadcast_id)

    async def _begin(self, broadcast_id: int) -> BroadcastDTO | None:
        now = self.clock()
        async with self.pool() as session:
            repos = self.repos(session)
            b = await repos.broadcasts.get(broadcast_id)
            if b is None or b.status not in ACTIVE:
                return None
            if b.status == BroadcastStatus.SCHEDULED:
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
            async with self.pool() as session:
                # Reconcile a crashed run at once rather than after `stale_after`, and any
                # instance's claims and reservations older than the lease.
                before = max(self.started_at, now - self.stale_after)
                if await self.repos(session).broadcasts.expire_claims(b.id, before):
                    await session.commit()
            await self.reporter.open(b)
        return b

    async def _produce(
        self, broadcast_id: int, queue: asyncio.Queue[Recipient | None], held: set[int]
    ) -> None:
        while True:
            if self.stopping:
                break  # workers finish what they hold; the rest stays pending
            async with self.pool() as session:
                # One statement takes a batch of rows no other instance has (SKIP LOCKED on
                # PostgreSQL), only while the broadcast is running (a cancel stops it here).
                batch = await self.repos(session).broadcasts.reserve(
                    broadcast_id, self.clock(), self.workers * 4
                )
                await session.commit()
            if not batch:
                break
            held.update(r.delivery_id for r in batch)
            for recipient in batch:
                await queue.put(recipient)
        for _ in range(self.workers):
            await queue.put(None)  # one stop signal per worker

    async def _worker(
        self, b: BroadcastDTO, queue: asyncio.Queue[Recipient | None], held: set[int],
        outcomes: Outcomes,
    ) -> None:
        while (recipient := await queue.get()) is not None:
            if self.stopping:
                continue  # still reserved: handed back to pending when the run ends
            try:
                await self._deliver(b, recipient, held, outcomes)
            except Exception as exc:  # noqa: BLE001 - one bad row must not stop the broadcast
                # The row stays claimed and becomes `unknown`: better than a possible duplicate.
                logger.error("broadcast %s delivery failed: %s", b.id, type(exc).__name__)

    async def _deliver(
        self, b: BroadcastDTO, r: Recipient, held: set[int], outcomes: Outcomes
    ) -> None:
        if not r.eligible:
            held.discard(r.delivery_id)
            await outcomes.add(r, DeliveryStatus.EXCLUDED, None, Outcome.REJECTED)
            return
        policy = replace(self.policy, paid=b.paid)
        # Claim, then wait for the pacer: the row's own transaction marks the one send that may
        # be in flight (a crash leaves it `claimed` → `unknown`); a cancelled broadcast or a
        # reservation another instance took over after the lease costs no pacer slot.
        async with self.pool() as session:
            claimed = await self.repos(session).broadcasts.claim(r.delivery_id, self.clock())
            await session.commit()
        held.discard(r.delivery_id)
        if not claimed:
            return
        started = False

        def go() -> bool:
            # Asked right before each request: once stopping, a row not yet sent is handed back
            # (RETRY_LATER → pending) instead of holding its claim through a long 429 wait.
            nonlocal started
            started = started or not self.stopping
            return not self.stopping

        try:
            result = await send_with_retry(
                self.bot, self.pacer, r.chat_id, b.text(r.lang), replace(policy, still_valid=go)
            )
        except asyncio.CancelledError:
            if not started:  # no request went out: nothing to fear from sending it later
                await asyncio.shield(self._settle(r.delivery_id, DeliveryStatus.PENDING))
            raise
        status = STATUS[result.outcome]
        if status != DeliveryStatus.PENDING:
            self.metrics.broadcast_recipients.labels(status).inc()
        await outcomes.add(r, status, result.error, result.outcome)

    async def _settle(self, delivery_id: int, status: str) -> None:
        async with self.pool() as session:
            await self.repos(session).broadcasts.settle(delivery_id, status, self.clock())
            await session.commit()

    async def _conclude(self, b: BroadcastDTO) -> Counts:
        now = self.clock()
        async with self.pool() as session:
            repos = self.repos(session)
            await repos.broadcasts.expire_claims(b.id, now - self.stale_after)
            finished = await repos.broadcasts.finish(b.id, now)
            counts = await repos.broadcasts.counts(b.id)
            self.metrics.broadcast_pending.set(counts.remaining)
            if finished:
                await repos.broadcasts.audit(
                    None, "broadcast.done", {"id": b.id, **counts.by_status}, now
                )
            await session.commit()
        if finished:
            await self.reporter.final(b, counts)
        return counts

