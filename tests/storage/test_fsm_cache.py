"""FsmRepo remembers the rows it looked up in its session, and forgets them when they change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import event

from storage.database import SessionPool, open_session, watch_reads
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.support.telegram import RecordingSession, UpdateFactory

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def count_fsm_reads(pool: SessionPool) -> list[str]:
    seen: list[str] = []
    engine = pool.kw["bind"].sync_engine

    def count(statement: str) -> None:
        if statement.lstrip().startswith("SELECT") and "fsm_records" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", lambda *args: count(args[2]))
    watch_reads(pool.kw["bind"], count)  # SQLite: what the engine's reader runs
    return seen


async def test_one_state_read_per_update(
    dp: Dispatcher, bot: Bot, session: RecordingSession, pool: SessionPool
) -> None:
    reads = count_fsm_reads(pool)
    await dp.feed_update(bot, UpdateFactory(64_200).message("/cancel"))  # reads the state twice
    assert session.sent()
    assert len(reads) == 1


async def test_writes_and_rollbacks_are_seen(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        fsm = Repos.build(s, cipher).fsm
        assert await fsm.get_state("k") is None
        await fsm.save("k", 1, NOW, state="KeyForm:kind", data={"a": 1})
        assert await fsm.get_state("k") == "KeyForm:kind"
        await s.commit()
        await fsm.save("k", 1, NOW, data={"a": 2})
        await s.rollback()  # the uncommitted data is gone, the committed row is read again
        assert await fsm.get_data("k") == {"a": 1}
        await fsm.save("k", 1, NOW, state=None, data={})
        assert await fsm.get_state("k") is None
        await s.commit()
    async with backend_pool() as s:
        assert await Repos.build(s, cipher).fsm.get_state("k") is None


async def test_a_forgotten_user_has_no_cached_state(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        user = await repos.users.create(55, "ru", "Asia/Almaty", NOW, True)
        await repos.fsm.save("k", 55, NOW, state="KeyForm:kind")
        await s.commit()
        assert await repos.fsm.get_state("k") == "KeyForm:kind"
        await repos.users.delete_everything(user.id, 55)  # a bulk DELETE of the user's rows
        assert await repos.fsm.get_state("k") is None
        await repos.fsm.save("k", 55, NOW, state=None)  # /forget then clear(): nothing to do
        await s.commit()


async def test_committed_writes_stay_cached_and_new_rows_roll_back(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    reads = count_fsm_reads(backend_pool)
    async with backend_pool() as s:
        fsm = Repos.build(s, cipher).fsm
        await fsm.save("k", 1, NOW, state="KeyForm:kind")
        await fsm.save("k", 1, NOW, data={"kind": "file"})
        await s.commit()  # a reply went out: the next step reads no row again
        assert await fsm.get_state("k") == "KeyForm:kind"
        assert await fsm.get_data("k") == {"kind": "file"}
        assert len(reads) == 1
        await fsm.save("new", 1, NOW, state="KeyForm:label")  # an INSERT, then rolled back
        await s.rollback()
        assert await fsm.get_state("new") is None
        await fsm.save("new", 1, NOW, state="KeyForm:label")
        await s.close()  # closed without a commit: as a rollback
        assert await fsm.get_state("new") is None
    async with backend_pool() as s:
        fsm = Repos.build(s, cipher).fsm
        assert await fsm.get_data("k") == {"kind": "file"}
        assert await fsm.get_state("new") is None


async def test_a_released_savepoint_is_not_a_commit(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        fsm = Repos.build(s, cipher).fsm
        # A write first: on SQLite the savepoint's RELEASE would otherwise end the transaction.
        await fsm.save("a", 1, NOW, state="KeyForm:kind")
        async with s.begin_nested():
            await fsm.save("k", 1, NOW, state="KeyForm:kind")
        assert await fsm.get_state("k") == "KeyForm:kind"
        await s.rollback()  # the outer transaction never commits
        assert await fsm.get_state("k") is None
        assert await fsm.get_state("a") is None


async def test_open_session_gives_every_connection_back(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    """A committed session is closed at once, an open transaction (a read, or a write then an
    error) the usual way: rolled back and its connection returned to the pool."""
    engine_pool = backend_pool.kw["bind"].sync_engine.pool
    async with open_session(backend_pool) as s:
        await Repos.build(s, cipher).fsm.save("k", 1, NOW, state="KeyForm:kind")
        await s.commit()
    assert engine_pool.checkedout() == 0
    async with open_session(backend_pool) as s:
        assert await Repos.build(s, cipher).fsm.get_state("k") == "KeyForm:kind"
        # A read, never committed (on SQLite the engine's reader served it: nothing begun).
        assert s.in_transaction() is (s.bind.dialect.name != "sqlite")
    assert engine_pool.checkedout() == 0
    with pytest.raises(LookupError):
        async with open_session(backend_pool) as s:
            await Repos.build(s, cipher).fsm.save("k", 1, NOW, state="KeyForm:label")
            raise LookupError
    assert engine_pool.checkedout() == 0
    async with backend_pool() as s:
        assert await Repos.build(s, cipher).fsm.get_state("k") == "KeyForm:kind"
