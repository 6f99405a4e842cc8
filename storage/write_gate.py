"""SQLite: one writer at a time in this process, queued on the event loop instead of asleep.

SQLite allows one write transaction per database. When two pooled connections of this process
both want to write, the loser's worker thread sleeps in SQLite's busy handler (1, 2, 5, 10 … 100
ms steps, then "database is locked" after `timeout`), so under load replies waited seconds and
some updates failed (benchmarks/load.py: p99 3 s at 50 in flight, "database is locked" during
set-up). The gate is a lock of the event loop taken right before a connection's first statement
that is not a read — INSERT, UPDATE and DELETE are what make the sqlite3 module open a transaction —
and released after its COMMIT or ROLLBACK. Waiters queue in arrival order and no thread sleeps.
Reads take no part: in WAL mode they never wait for the writer.

Other processes on the same file are not covered by an in-process lock: for them SQLite's own
busy timeout still applies. PostgreSQL engines get no gate (row locks and MVCC do the job).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import deque
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import await_, in_greenlet

from storage.sqlite_inline import run_inline

# Reads: everything else may open a transaction (the sqlite3 module begins one before INSERT,
# UPDATE, DELETE and REPLACE; BEGIN and SAVEPOINT open one) and so takes the gate first.
_READS = ("SELECT", "PRAGMA")


class WriteGate:
    """Which pooled connection may write now; the others queue, in arrival order.

    A free gate is taken at once by `take`, from the synchronous statement hook, with no
    coroutine and no switch out of SQLAlchemy's greenlet; a held one is waited for in
    `acquire`. Release hands the gate straight to the first waiter (no barging in between)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.holder: object | None = None
        self._waiters: deque[tuple[asyncio.Future[None], object]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _on_this_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): nothing from the old one holds
            self._loop, self.holder, self._waiters = loop, None, deque()
        return loop

    def take(self, holder: object) -> bool:
        """Takes the gate if it is free and nobody queues for it; False otherwise."""
        self._on_this_loop()
        if self.holder is None and not self._waiters:
            self.holder = holder
            return True
        return False

    async def acquire(self, holder: object) -> None:
        if self.take(holder):
            return
        waiter: asyncio.Future[None] = self._on_this_loop().create_future()
        entry = (waiter, holder)
        self._waiters.append(entry)
        try:
            # A task that writes on a second connection while its first one holds the gate
            # would wait forever; like SQLite's busy timeout, give up with "locked".
            async with asyncio.timeout(self.timeout):
                await waiter
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():
                self.release(holder)  # handed over just as this writer gave up: pass it on
            else:
                self._waiters.remove(entry)
                waiter.cancel()
            if isinstance(error, TimeoutError):
                raise OperationalError(
                    "BEGIN", None, sqlite3.OperationalError("database is locked (write gate)")
                ) from None
            raise

    def release(self, holder: object) -> None:
        if self.holder is not holder:
            return
        self.holder = None
        while self._waiters:
            waiter, following = self._waiters.popleft()
            if not waiter.done():
                self.holder = following
                waiter.set_result(None)
                return


def _raw(connection: Any) -> object:
    """The driver connection behind a pool proxy (one identity per pooled connection)."""
    return getattr(connection, "dbapi_connection", None) or connection


def _may_be_in_transaction(raw: Any) -> bool:
    """False only when the sqlite3 connection says no transaction is open."""
    driver = getattr(raw, "driver_connection", raw)  # aiosqlite's, or sqlite3's own
    try:
        return bool(driver.in_transaction)
    except Exception:  # noqa: BLE001 - unknown or closed: let the rollback decide
        return True


# One gate per database file and process: engines of one process on the same file (two bot
# instances in a test, a job's own engine) queue on it too. With the SQLite calls made in the
# event loop thread (storage/sqlite_inline.py), a writer of a second engine that met the other
# engine's open write transaction would otherwise block the loop in SQLite's busy handler, and
# that transaction could never finish.
# Keyed by thread too: an asyncio lock serves one event loop (Alembic migrates in a thread with
# its own loop and engine).
_GATES: dict[tuple[str, int], WriteGate] = {}


def _gate_for(engine: AsyncEngine, timeout: float) -> WriteGate:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return WriteGate(timeout)  # a private database (or a URI): nothing to share
    key = (str(Path(database).expanduser().resolve()), threading.get_ident())
    gate = _GATES.get(key)
    if gate is None:
        gate = _GATES[key] = WriteGate(timeout)
    return gate


def install_write_gate(engine: AsyncEngine, timeout: float) -> WriteGate:
    """Attach a gate to a SQLite engine (see the module docstring); engines of this process on
    the same database file share one gate (its timeout is the first engine's)."""
    gate = _gate_for(engine, timeout)
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before_write(
        conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if statement.lstrip()[:6].upper().startswith(_READS) or not in_greenlet():
            return
        raw = _raw(conn.connection)
        if gate.holder is not raw and not gate.take(raw):
            await_(gate.acquire(raw))

    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def commit(dbapi_connection: Any) -> None:
        raw = _raw(dbapi_connection)
        if gate.holder is not raw:
            # Only reads since the last commit: SQLite has no transaction open on this
            # connection, and the driver's commit would be a thread round trip doing nothing.
            return
        try:
            if not run_inline(dbapi_connection, "commit"):
                do_commit(dbapi_connection)
        finally:
            gate.release(raw)

    def rollback(dbapi_connection: Any) -> None:
        raw = _raw(dbapi_connection)
        if gate.holder is not raw and not _may_be_in_transaction(raw):
            # The pool rolls back every connection it gets back, after a commit too: with only
            # reads since then there is nothing to undo, and the call is a driver round trip.
            return
        try:
            if not run_inline(dbapi_connection, "rollback"):
                do_rollback(dbapi_connection)
        finally:
            gate.release(raw)

    dialect.do_commit = commit  # type: ignore[method-assign]
    dialect.do_rollback = rollback  # type: ignore[method-assign]

    @event.listens_for(sync_engine, "close")
    def _closed(dbapi_connection: Any, _record: Any) -> None:  # a dropped connection
        gate.release(_raw(dbapi_connection))

    return gate
