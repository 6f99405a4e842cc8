"""Write-behind for log-type rows (last seen, unanswered questions, feedback votes).

Such a write used to turn an otherwise read-only update into a write transaction (on SQLite: the
write gate, a COMMIT and its WAL write). Here a repository builds the row (already encrypted and
blind-indexed) as a `LogRecord` — a Core statement of its own and the parameters — and hands it
to `WriteBehind.add`, which queues it; a background task writes everything queued in one
transaction, one executemany per statement, every `interval` seconds or as soon as `batch`
records wait. Only repositories build records: this module never sees a table or a plain value.

Trade-off, accepted for these rows only: a process killed with SIGKILL (or a power cut) loses
what was queued, at most one interval's worth; a graceful stop flushes (`close`, a shutdown hook
in bot/runtime.py). Memory is bounded: with `capacity` records queued, `add` writes inline in
the caller's session, as before, and so it does with no pool (tests) or after `close`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase

from storage.database import SessionPool

logger = logging.getLogger("storage.write_behind")
Sleep = Callable[[float], Awaitable[None]]
MAX_ATTEMPTS = 3  # failed flushes of the same records before they are given up (and logged)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One row to write: `statement` is a module-level Core INSERT/UPDATE (records of one
    statement share an executemany). A second record with the same `key` while the first is
    queued is not added. `owner` is the user id of a personal record (dropped by /forget)."""

    statement: UpdateBase
    params: dict[str, Any]
    key: Hashable | None = None
    owner: int | None = None


class WriteBehind:
    """Queues log records and writes them in batches from one background task."""

    def __init__(
        self, pool: SessionPool | None, *, interval: float = 0.5, batch: int = 256,
        capacity: int = 10_000, sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.pool, self.interval, self.batch, self.capacity = pool, interval, batch, capacity
        self.sleep = sleep
        self.closed = pool is None
        self._queue: list[LogRecord] = []
        self._keys: set[Hashable] = set()
        self._attempts = 0
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._flushing = asyncio.Lock()

    def queued(self, key: Hashable) -> bool:
        return key in self._keys

    @property
    def pending(self) -> int:
        """Records queued now (a property, not __len__: an empty writer must stay truthy)."""
        return len(self._queue)

    async def add(self, record: LogRecord, session: AsyncSession) -> bool:
        """Queue `record`, or write it now in `session` when the queue is full or closed. False
        when nothing was added: its key is already queued, or the inline write changed no row."""
        if record.key is not None and record.key in self._keys:
            return False
        if self.closed or len(self._queue) >= self.capacity:
            return await write_now(record, session)
        self._queue.append(record)
        if record.key is not None:
            self._keys.add(record.key)
        if len(self._queue) >= self.batch:
            self._full.set()
        if self._task is None or self._task.done():
            # A context of its own, not the update's that happened to start it (its session,
            # its correlation id in the logs).
            self._task = asyncio.create_task(
                self._run(), name="write-behind", context=contextvars.Context()
            )
        return True

    def drop_owner(self, owner: int) -> int:
        """Forget the queued records of user `owner` (/forget); how many went."""
        kept = [r for r in self._queue if r.owner != owner]
        dropped, self._queue = len(self._queue) - len(kept), kept
        self._keys = {r.key for r in kept if r.key is not None}
        return dropped

    async def flush(self) -> int:
        """Write everything queued now, in one transaction; how many records were written."""
        async with self._flushing:
            records, self._queue, self._keys = self._queue, [], set()
            self._full.clear()
            if not records or self.pool is None:
                return 0
            try:
                await self._write(records)
            except BaseException:  # cancelled too: the records are not lost with the task
                self._retry_later(records)
                raise
            self._attempts = 0
            return len(records)

    async def _write(self, records: list[LogRecord]) -> None:
        groups: dict[int, tuple[UpdateBase, list[dict[str, Any]]]] = {}
        for r in records:
            groups.setdefault(id(r.statement), (r.statement, []))[1].append(r.params)
        assert self.pool is not None
        async with self.pool() as session, session.begin():
            connection = await session.connection()
            for statement, rows in groups.values():
                await connection.execute(statement, rows)

    def _retry_later(self, records: list[LogRecord]) -> None:
        self._attempts += 1
        if self._attempts >= MAX_ATTEMPTS:
            logger.error("gave up %d log record(s) after %d failed writes",
                         len(records), self._attempts)
            self._attempts = 0
            return
        self._queue = records + self._queue  # oldest first again; may exceed capacity briefly
        self._keys = {r.key for r in self._queue if r.key is not None}

    async def _run(self) -> None:
        """Flush `interval` seconds after the first queued record, or at once when full."""
        while self._queue:
            sleeping = asyncio.ensure_future(self.sleep(self.interval))
            full = asyncio.ensure_future(self._full.wait())
            try:
                await asyncio.wait({sleeping, full}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeping.cancel()
                full.cancel()
            try:
                await self.flush()
            except Exception as exc:  # the error's type only: its text quotes the rows
                logger.error("writing queued log records failed (%s)", type(exc).__name__)

    async def close(self) -> None:
        """Graceful stop: no more queueing (later records are written inline), a last flush."""
        self.closed = True
        self._full.set()  # the background task flushes now instead of at its interval
        task, self._task = self._task, None
        try:
            if task is not None:
                await task
        except asyncio.CancelledError:  # the shutdown budget ran out
            logger.warning("%d log record(s) not written at shutdown", len(self._queue))
            raise
        while self._queue:
            try:
                await self.flush()
            except Exception as exc:
                logger.error("writing queued log records at shutdown failed (%s)",
                             type(exc).__name__)


async def write_now(record: LogRecord, session: AsyncSession) -> bool:
    """Write one record in the caller's transaction; False when no row changed."""
    connection = await session.connection()
    result = await connection.execute(record.statement, record.params)
    return bool(result.rowcount)
