"""aiosqlite's connection API with the SQLite calls made in the calling thread.

aiosqlite gives every connection a worker thread and sends each call there through a queue: a
statement, a fetch, a commit each cost a round trip (queue, thread wake-up, the GIL handed over
twice, `call_soon_threadsafe`, the event loop's self-pipe). An update made about ten of them
(benchmarks/load.py), and every trip of a task holding the write gate let the event loop run
other tasks' work first, so the gate stayed held far longer than its statements took. The bot's
statements are small indexed lookups and writes in WAL mode (microseconds to a millisecond), so
they now run directly in the event loop thread, with the same aiosqlite objects SQLAlchemy's
`sqlite+aiosqlite` dialect expects.

What this gives up: a call that waits blocks the event loop while it waits. Within the process
the write gate (storage/write_gate.py) lets only one connection write, so SQLite's busy handler
does not sleep; readers never wait in WAL mode. Another process writing the same file (a CLI
command next to the running bot) can make a writer here wait in the busy handler, blocking the
loop for as long as that process holds its (short) write transaction. Long scans are read in
chunks by their callers (reminders, broadcasts).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import aiosqlite


class _RunNow:
    """Stands in for aiosqlite's queue to its worker thread: runs the work at once (SQLAlchemy's
    isolation-level setter and aiosqlite's stop() put work there directly)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiter, as the thread does
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite.Connection whose calls run in the caller's thread (no worker thread)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._tx = _RunNow()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Any:  # no worker thread to start
        return self._connect().__await__()


def run_inline(dbapi_connection: Any, action: Literal["commit", "rollback"]) -> bool:
    """Commits or rolls back the transaction of an inline connection behind SQLAlchemy's
    adapter at once: what aiosqlite would run, minus the coroutine and SQLAlchemy's greenlet
    switch out and back. False (nothing done) for any other connection, or one that is closed
    (the adapter then does what it does for those)."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if not isinstance(driver, InlineConnection) or not driver._running:
        return False
    sqlite_connection = driver._connection
    if sqlite_connection is None:
        return False
    getattr(sqlite_connection, action)()
    return True


def connect(
    database: str | bytes | Path, *, iter_chunk_size: int = 64, **kwargs: Any
) -> InlineConnection:
    """`aiosqlite.connect` for SQLAlchemy's `async_creator_fn` connect argument."""
    location = database.decode() if isinstance(database, bytes) else str(database)

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(location, **kwargs)

    return InlineConnection(connector, iter_chunk_size)
