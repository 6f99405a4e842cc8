"""Held-back FSM writes (storage/deferred.py): one statement per dialog step, never read around,
committed with the transaction, gone with a rollback or a rolled-back savepoint."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text

from storage.database import SessionPool, watch_reads
from storage.encryption import FieldCipher
from storage.repositories import Repos

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
STATE = text("SELECT state FROM fsm_records")


@contextmanager
def statements(pool: SessionPool) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = pool.kw["bind"].sync_engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    unwatch = watch_reads(pool.kw["bind"], lambda statement: record(None, None, statement))
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
        unwatch()


async def _stored(pool: SessionPool) -> list[str | None]:
    async with pool() as other:  # another connection: committed rows only
        return [row[0] for row in await other.execute(STATE)]


async def test_a_dialog_step_is_one_write(backend_pool: SessionPool, cipher: FieldCipher) -> None:
    async with backend_pool() as s:
        fsm = Repos.build(s, cipher).fsm
        with statements(backend_pool) as seen:
            await fsm.save("k", 1, NOW, state="A")  # a new row ...
            await fsm.save("k", 1, NOW, data={"n": 1})  # ... and its data: one INSERT
            await s.commit()
        assert seen == ["SELECT", "INSERT"]
        assert await _stored(backend_pool) == ["A"]
        with statements(backend_pool) as seen:
            await fsm.save("k", 1, NOW, state="B")
            await fsm.save("k", 1, NOW, data={"n": 2})
            await s.commit()
        assert seen == ["UPDATE"]
        assert await _stored(backend_pool) == ["B"]
        with statements(backend_pool) as seen:
            await fsm.save("k", 1, NOW, state=None, data={})  # cleared, then set again
            await fsm.save("k", 1, NOW, state="C")
            await s.commit()
        assert seen == ["UPDATE"]
    async with backend_pool() as s:
        fsm = Repos.build(s, cipher).fsm
        assert await fsm.get_state("k") == "C" and await fsm.get_data("k") == {}


async def test_a_held_write_goes_before_any_statement(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        await Repos.build(s, cipher).fsm.save("k", 1, NOW, state="A")
        assert [row[0] for row in await s.execute(STATE)] == ["A"]  # same transaction
        assert await _stored(backend_pool) == []  # not committed yet
        await s.commit()
    assert await _stored(backend_pool) == ["A"]


async def test_rollbacks_drop_held_writes(backend_pool: SessionPool, cipher: FieldCipher) -> None:
    async with backend_pool() as s:
        fsm = Repos.build(s, cipher).fsm
        await fsm.save("k", 1, NOW, state="A")
        await s.commit()
        await fsm.save("k", 1, NOW, state="B")
        await s.rollback()
        assert await fsm.get_state("k") == "A"
        await fsm.save("k", 1, NOW, state="C")  # before the savepoint: kept
        async with s.begin_nested() as savepoint:
            await fsm.save("k", 1, NOW, state="D")  # inside it: undone with it
            await savepoint.rollback()
        assert await fsm.get_state("k") == "C"
        await s.commit()
    assert await _stored(backend_pool) == ["C"]
    async with backend_pool() as s:
        await Repos.build(s, cipher).fsm.save("k", 1, NOW, state="E")
        # closed without a commit: nothing written, nothing left on the pooled connection
    assert await _stored(backend_pool) == ["C"]
    async with backend_pool() as s:
        await s.commit()
    assert await _stored(backend_pool) == ["C"]
