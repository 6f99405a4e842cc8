"""SQLite writers of one process queue on the gate: no busy sleeps, no "database is locked"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.database import create_session_pool
from storage.write_gate import WriteGate, install_write_gate


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    # timeout=0: without the gate a second writer fails at once with "database is locked".
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path}/gate.sqlite3", connect_args={"timeout": 0}
    )
    install_write_gate(engine, timeout=0.5)
    async with engine.begin() as conn:
        await conn.execute(text("PRAGMA journal_mode=WAL"))
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"))
    yield engine
    await engine.dispose()


async def test_concurrent_writers_all_commit(engine: AsyncEngine) -> None:
    pool = create_session_pool(engine)

    async def writer(n: int) -> None:
        async with pool() as session:
            await session.execute(text("SELECT count(*) FROM t"))  # reads take no gate
            await session.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.005)  # the transaction stays open across an await
            await session.execute(text("UPDATE t SET n = n + 1000 WHERE n = :n"), {"n": n})
            await session.commit()

    await asyncio.gather(*(writer(n) for n in range(12)))
    async with pool() as session:
        rows = (await session.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all()
    assert rows == [1000 + n for n in range(12)]


async def test_rollback_releases_the_gate(engine: AsyncEngine) -> None:
    pool = create_session_pool(engine)
    async with pool() as session:
        await session.execute(text("INSERT INTO t (id, n) VALUES (1, 1)"))
        with pytest.raises(IntegrityError):
            await session.execute(text("INSERT INTO t (id, n) VALUES (1, 2)"))
        await session.rollback()
    async with pool() as session:  # would wait for the gate if the rollback kept it
        await session.execute(text("INSERT INTO t (id, n) VALUES (2, 2)"))
        await session.commit()


async def test_closing_a_session_without_commit_releases_the_gate(engine: AsyncEngine) -> None:
    pool = create_session_pool(engine)
    async with pool() as session:
        await session.execute(text("INSERT INTO t (n) VALUES (1)"))
    async with pool() as session:
        await session.execute(text("INSERT INTO t (n) VALUES (2)"))
        await session.commit()
        assert (await session.execute(text("SELECT n FROM t"))).scalars().all() == [2]


async def test_a_second_writer_in_the_same_task_fails_instead_of_hanging(
    engine: AsyncEngine,
) -> None:
    pool = create_session_pool(engine)
    async with pool() as first, pool() as second:
        await first.execute(text("INSERT INTO t (n) VALUES (1)"))
        with pytest.raises(OperationalError, match="locked"):
            await second.execute(text("INSERT INTO t (n) VALUES (2)"))


async def test_a_free_gate_is_taken_without_a_pass_of_the_event_loop() -> None:
    # Under load every pass of the loop runs dozens of other updates' work: a writer that gave
    # the loop a pass for a free gate held it (already taken) through all of that work.
    gate = WriteGate(timeout=0.5)
    others_ran = asyncio.Event()
    other = asyncio.get_running_loop().call_soon(others_ran.set)
    await gate.acquire("a")
    assert not others_ran.is_set()
    gate.release("a")
    other.cancel()


async def test_a_held_gate_is_waited_for_in_arrival_order() -> None:
    gate, order = WriteGate(timeout=0.5), []

    async def writer(name: str) -> None:
        await gate.acquire(name)
        order.append(name)
        await asyncio.sleep(0)
        gate.release(name)

    await gate.acquire("first")
    tasks = [asyncio.create_task(writer(n)) for n in ("b", "c", "d")]
    await asyncio.sleep(0)
    gate.release("first")
    await asyncio.gather(*tasks)
    assert order == ["b", "c", "d"]


async def test_a_free_gate_is_taken_in_place_but_never_ahead_of_a_queue() -> None:
    # `take` is what the statement hook does first: no coroutine, no greenlet switch.
    gate = WriteGate(timeout=0.5)
    assert gate.take("a") and gate.holder == "a"
    assert not gate.take("b")
    queued = asyncio.create_task(gate.acquire("b"))
    await asyncio.sleep(0)
    gate.release("a")  # handed to b at once: nobody can take it in between
    assert gate.holder == "b" and not gate.take("c")
    await queued
    gate.release("b")
    assert gate.take("c")


async def test_a_waiter_cancelled_as_the_gate_reaches_it_passes_it_on() -> None:
    gate = WriteGate(timeout=0.5)
    await gate.acquire("a")
    second = asyncio.create_task(gate.acquire("b"))
    third = asyncio.create_task(gate.acquire("c"))
    await asyncio.sleep(0)
    gate.release("a")  # b's turn, but b is cancelled before it runs again
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    await third
    assert gate.holder == "c"


async def test_a_timed_out_waiter_leaves_the_queue() -> None:
    gate = WriteGate(timeout=0.01)
    await gate.acquire("a")
    with pytest.raises(OperationalError, match="locked"):
        await gate.acquire("b")
    gate.release("a")
    assert gate.take("c")  # b is not queued any more


async def test_engines_on_one_file_share_the_gate(tmp_path: Path) -> None:
    # Two instances of the bot in one process (tests) or a job's own engine: with the SQLite
    # calls in the loop thread, the second engine's writer must queue, not block the loop.
    from storage.database import create_engine

    url = f"sqlite+aiosqlite:///{tmp_path}/shared.sqlite3"
    first, second = create_engine(url), create_engine(url)
    try:
        async with first.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"))

        async def writer(pool_n: int, n: int) -> None:
            pool = create_session_pool(first if pool_n == 0 else second)
            async with pool() as session:
                await session.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
                await asyncio.sleep(0.001)  # the write transaction stays open across an await
                await session.commit()

        await asyncio.wait_for(asyncio.gather(*(writer(n % 2, n) for n in range(10))), 5)
        async with first.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 10
    finally:
        await first.dispose()
        await second.dispose()
