"""SQLite engines run their calls in the event loop thread: no aiosqlite worker thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.database import create_engine, create_session_pool
from storage.sqlite_inline import InlineConnection, run_inline


async def test_engine_uses_inline_connections_without_threads(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/inline.sqlite3")
    threads = threading.active_count()
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"))
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, InlineConnection)
        pool = create_session_pool(engine)

        async def writer(n: int) -> None:
            async with pool() as session:
                await session.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
                await asyncio.sleep(0)  # the transaction stays open across an await
                await session.commit()

        await asyncio.gather(*(writer(n) for n in range(20)))
        assert threading.active_count() == threads  # no worker thread per connection
        async with pool() as session:
            assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 20
            with pytest.raises(IntegrityError):  # driver errors surface as before
                await session.execute(text("INSERT INTO t (id, n) VALUES (1, 0)"))
            await session.rollback()
            # The rolled-back connection serves the next transaction.
            await session.execute(text("INSERT INTO t (n) VALUES (99)"))
            await session.commit()
            assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 21
    finally:
        await engine.dispose()


async def test_commit_and_rollback_run_in_place(tmp_path: Path) -> None:
    """The write gate's commit and rollback call sqlite3 directly: no aiosqlite coroutine."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/inline.sqlite3")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        calls: list[str] = []
        executed = InlineConnection._execute

        async def counted(self: InlineConnection, fn: object, *args: object) -> object:
            calls.append(getattr(fn, "__name__", "?"))
            return await executed(self, fn, *args)  # type: ignore[arg-type]

        InlineConnection._execute = counted  # type: ignore[method-assign]
        try:
            pool = create_session_pool(engine)
            async with pool() as session:
                await session.execute(text("INSERT INTO t (n) VALUES (1)"))
                await session.commit()
                await session.execute(text("INSERT INTO t (n) VALUES (2)"))
                await session.rollback()
        finally:
            InlineConnection._execute = executed  # type: ignore[method-assign]
        assert "commit" not in calls and "rollback" not in calls
        assert run_inline(object(), "commit") is False  # not an inline connection: left alone
        async with pool() as session:
            assert (await session.execute(text("SELECT n FROM t"))).scalars().all() == [1]
    finally:
        await engine.dispose()
