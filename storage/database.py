"""Engine, session pool and schema migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import ast
import asyncio
import re
import sqlite3
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Executable, Row, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from storage import deferred, prepared, sqlite_inline
from storage.write_gate import install_write_gate

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_HEADER = re.compile(
    r"^(revision|down_revision|branch_labels|depends_on)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.M
)

SessionPool = async_sessionmaker[AsyncSession]
_Params = dict[str, Any]
Query = tuple[Executable, _Params]  # a Core statement and its parameters
SQLITE_TIMEOUT = 30.0  # seconds a writer waits for another (process) before "locked"


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    _ensure_sqlite_dir(url)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": SQLITE_TIMEOUT})
        if make_url(url).get_driver_name() == "aiosqlite":
            # No worker-thread round trip per call (storage/sqlite_inline.py).
            kwargs["connect_args"] = {"async_creator_fn": sqlite_inline.connect,
                                      **kwargs["connect_args"]}
    # Under a burst, an update waits for a pooled connection instead of failing after the
    # default 30 s: a lost update is worse than a slow one.
    kwargs.setdefault("pool_timeout", 300)
    engine = create_async_engine(url, **kwargs)
    deferred.install(engine)  # one write per dialog step, not two (storage/deferred.py)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        # Writers of this process queue on the event loop, not in SQLite's sleeping busy loop.
        install_write_gate(engine, SQLITE_TIMEOUT)
        _install_reader(engine)
    return engine


class _Reader:
    """A SQLite connection of its own (one per thread) for the reads an update makes before its
    session has begun (`_reader_of`): the user row and dialog state of every update, the keys
    /mykeys lists, a card's key.

    Through the session that read costs more than the read itself (`python benchmarks/dbpath.py`):
    a pooled connection checked out, a greenlet hop, autobegin, then a commit and a check-in,
    although SQLite runs such a SELECT in autocommit anyway (pysqlite opens no transaction before
    a SELECT). Here it runs straight on the DBAPI connection, with the same snapshot semantics
    (each statement sees what is committed), and an update that only reads (a question, /help,
    a FAQ button) never begins its session at all. `query_only`: this connection never writes.
    Only for a database file (an in-memory one is private to each connection)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.connections: dict[int, sqlite3.Connection] = {}
        self.watchers: list[Callable[[str], None]] = []

    def firsts(self, dialect: Any, queries: tuple[Query, ...]) -> list[Row[Any] | None] | None:
        """The first row of each statement; None when one cannot be read here (the caller
        reads through its session)."""
        firsts: list[Row[Any] | None] = []
        for statement, params in queries:
            rows = self.rows(dialect, statement, params)
            if rows is None:
                return None
            firsts.append(rows[0] if rows else None)
        return firsts

    def rows(self, dialect: Any, statement: Executable, params: _Params) -> list[Any] | None:
        """Every row of a plain read; None when it cannot be read here."""
        try:
            return prepared.read_plain(self._connection(), dialect, statement, params)
        except sqlite3.Error:  # e.g. busy during a recovery: the session's way waits properly
            return None

    def _connection(self) -> sqlite3.Connection:
        conn = self.connections.get(threading.get_ident())
        if conn is None:
            # Used only by its own thread; `close()` may come from another (the engine's dispose).
            conn = sqlite3.connect(self.database, timeout=SQLITE_TIMEOUT, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA query_only=ON")
            self.connections[threading.get_ident()] = conn
            self._trace(conn)
        return conn

    def _trace(self, conn: sqlite3.Connection) -> None:
        conn.set_trace_callback(self._seen if self.watchers else None)

    def _seen(self, statement: str) -> None:
        for watcher in list(self.watchers):
            watcher(statement)

    def watch(self, watcher: Callable[[str], None]) -> Callable[[], None]:
        self.watchers.append(watcher)
        for conn in self.connections.values():
            self._trace(conn)

        def unwatch() -> None:
            self.watchers.remove(watcher)
            for conn in self.connections.values():
                self._trace(conn)

        return unwatch

    def close(self) -> None:
        connections, self.connections = self.connections, {}
        for conn in connections.values():
            conn.close()


_READERS: weakref.WeakKeyDictionary[Engine, _Reader] = weakref.WeakKeyDictionary()


def watch_reads(engine: AsyncEngine, watcher: Callable[[str], None]) -> Callable[[], None]:
    """Calls `watcher` with each statement the engine's reader runs (as the engine's
    `before_cursor_execute` event does for the others); returns the function that stops it."""
    reader = _READERS.get(engine.sync_engine)
    if reader is None:
        return lambda: None
    return reader.watch(watcher)


def _install_reader(engine: AsyncEngine) -> None:
    url = engine.url
    if url.get_driver_name() != "aiosqlite" or url.query or url.database in (None, "", ":memory:"):
        return
    reader = _READERS[engine.sync_engine] = _Reader(str(url.database))
    # dispose() is the engine's end (and a test's between databases): the file may go next.
    event.listen(engine.sync_engine, "engine_disposed", lambda _engine: reader.close())


def create_session_pool(engine: AsyncEngine) -> SessionPool:
    return async_sessionmaker(engine, expire_on_commit=False)


class open_session:  # noqa: N801 - used like a function: `async with open_session(pool) as s`
    """`async with pool() as session`, minus a task per use when nothing is left to release.

    AsyncSession's exit runs `close()` in a new task shielded from cancellation (so that giving
    the connection back is never abandoned): a task and two extra event-loop passes for every
    update. A session whose transaction has ended (committed before the reply) holds no
    connection, and closing it only clears its identity map: that is done at once, no await.
    A session still in a transaction (an error, a rollback to do) is closed AsyncSession's way."""

    __slots__ = ("session",)

    def __init__(self, pool: SessionPool) -> None:
        self.session = pool()

    async def __aenter__(self) -> AsyncSession:
        return self.session

    async def __aexit__(self, *exc_info: Any) -> None:
        session = self.session
        if session.in_transaction():
            await session.__aexit__(*exc_info)
        else:
            session.sync_session.close()


def _all(session: Session, statement: Executable, params: _Params) -> list[Row[Any]]:
    return list(prepared.execute(session.connection(), statement, params, True) or ())


def _firsts(session: Session, queries: tuple[Query, ...]) -> list[Row[Any] | None]:
    conn = session.connection()
    firsts: list[Row[Any] | None] = []
    for statement, params in queries:
        rows = prepared.execute(conn, statement, params, True)
        firsts.append(rows[0] if rows else None)
    return firsts


def _run(session: Session, statement: Executable, params: _Params) -> None:
    prepared.execute(session.connection(), statement, params, False)


async def first_row(session: AsyncSession, statement: Executable, params: _Params
                    ) -> Row[Any] | None:
    """The first row of a Core statement run on the session's connection (its transaction).

    For the reads and writes of every update: one greenlet hop instead of two for
    `await session.connection()` then `execute`, and no ORM. A statement built once runs on the
    DBAPI cursor (storage/prepared.py), its rows are named tuples with the keys of SQLAlchemy's
    Row; meant for statements of a row or a few (all rows are fetched)."""
    (row,) = await first_rows(session, (statement, params))
    return row


async def first_rows(session: AsyncSession, *queries: Query) -> list[Row[Any] | None]:
    """The first row of each statement, run in order in one greenlet hop (as `first_row`):
    what every update reads at its start costs one hop instead of one per statement."""
    reader = _reader_of(session)
    if reader is not None:
        found = reader.firsts(session.bind.dialect, queries)  # type: ignore[union-attr]
        if found is not None:
            return found
    return await session.run_sync(_firsts, queries)


async def all_rows(session: AsyncSession, statement: Executable, params: _Params
                   ) -> list[Row[Any]]:
    """Every row of a Core statement (as `first_row`)."""
    reader = _reader_of(session)
    if reader is not None:
        found = reader.rows(session.bind.dialect, statement, params)  # type: ignore[union-attr]
        if found is not None:
            return found
    return await session.run_sync(_all, statement, params)


def _reader_of(session: AsyncSession) -> _Reader | None:
    """The SQLite reader for a session that has not begun: its plain reads (SELECTs without
    row locks) go there, so an update that only reads never checks out a connection nor
    commits. From its first write on, the session reads itself (its own uncommitted rows)."""
    if session.bind is None or session.in_transaction():
        return None
    return _READERS.get(session.bind.sync_engine)


async def run_core(session: AsyncSession, statement: Executable, params: _Params) -> None:
    """A Core write on the session's connection (as `first_row`)."""
    await session.run_sync(_run, statement, params)


async def ping(pool: SessionPool) -> None:
    """`SELECT 1` on a pooled connection; raises when the database is unreachable."""
    async with pool() as session:
        await session.execute(text("SELECT 1"))


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate_sync(url: str, revision: str = "heads") -> None:
    """Bring the schema up to `revision` (blocking; Alembic runs its own event loop)."""
    from alembic import command

    _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def downgrade_sync(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


async def migrate(url: str, revision: str = "heads") -> None:
    """Run migrations from async code, in a worker thread with its own loop.

    Without importing Alembic: a database already at the head revisions is left alone (the
    usual restart; Alembic's import is 0.1-0.3 s of CPU, about 11 MB of memory), and an empty
    one gets the models' schema and the head revisions at once (storage/fresh_schema.py)."""
    if revision == "heads" and await _at_heads(url):
        return
    await asyncio.to_thread(migrate_sync, url, revision)


def script_heads(versions: Path = MIGRATIONS_DIR / "versions") -> frozenset[str] | None:
    """The head revisions of the migration files, read as text (Alembic not imported); None
    when a file is beyond plain `revision`/`down_revision` (branch labels, depends_on)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        try:
            found = {k: ast.literal_eval(v) for k, v in _HEADER.findall(path.read_text("utf-8"))}
        except (ValueError, SyntaxError):
            return None
        revision, down = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str) or found.get("branch_labels") or found.get("depends_on"):
            return None
        downs = (down,) if isinstance(down, str) else tuple(down or ())
        if not all(isinstance(d, str) for d in downs):
            return None
        revisions.add(revision)
        parents.update(downs)
    return frozenset(revisions - parents) or None


async def schema_is_current(url: str) -> bool:
    """The database's alembic_version holds exactly the head revisions (False when unsure)."""
    return await _at_heads(url, create=False)


async def _at_heads(url: str, create: bool = True) -> bool:
    """The schema is at the head revisions: it was already, or (`create`) the database was
    empty and got the models' schema here. False when unsure: Alembic decides."""
    heads = script_heads()
    if heads is None:
        return False
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            if create:
                from storage.fresh_schema import create_if_empty

                if await conn.run_sync(create_if_empty, heads):
                    return True
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            current = frozenset(rows.scalars())
    except Exception:  # no version table yet, or anything odd: Alembic decides
        return False
    finally:
        await engine.dispose()
    return current == heads
