"""The SQLite reader (storage/database.py): the reads an update starts with, outside its session.

It must read exactly what the session would: what is committed (by any connection), and, once
the session has begun, the session's own uncommitted writes (then the session reads itself)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import literal_column, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.database import (
    SessionPool,
    create_engine,
    create_session_pool,
    first_rows,
    watch_reads,
)
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.conftest import FakeClock

pytestmark = pytest.mark.sqlite_only(reason="the reader serves SQLite files")


def reads_of(pool: SessionPool) -> list[str]:
    seen: list[str] = []
    watch_reads(pool.kw["bind"], seen.append)
    return seen


async def test_the_reader_sees_every_commit_and_the_session_its_own_writes(
    backend_pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    reads = reads_of(backend_pool)
    async with backend_pool() as s:
        user = await Repos.build(s, cipher).users.create(7001, "ru", "Asia/Almaty", clock(), True)
        # Begun: the read goes through the session and sees the uncommitted row.
        assert s.in_transaction()
        assert await Repos.build(s, cipher).user_and_state(7001, "k") is not None
        assert reads == []
        await s.commit()
    async with backend_pool() as other:  # another connection changes the row, commits
        await other.execute(text("UPDATE users SET language = 'kk' WHERE id = :id"),
                            {"id": user.id})
        await other.commit()
    async with backend_pool() as s:
        found = await Repos.build(s, cipher).user_and_state(7001, "k")
        assert found is not None and found.language == "kk"
        assert not s.in_transaction(), "a read-only start begins nothing"
    assert len(reads) == 1 and "users" in reads[0]


async def test_the_reader_never_writes(backend_pool: SessionPool) -> None:
    async with backend_pool() as s:
        [row] = await first_rows(s, (select(literal_column("1").label("one")), {}))
        assert row is not None and row.one == 1 and not s.in_transaction()
    engine = backend_pool.kw["bind"]
    from storage.database import _READERS

    reader = _READERS[engine.sync_engine]
    conn = reader._connection()
    with pytest.raises(Exception, match="readonly"):
        conn.execute("DELETE FROM users")


async def test_no_reader_for_an_in_memory_database_and_none_left_after_dispose(
    tmp_path: Path, backend_url: str
) -> None:
    from storage.database import _READERS, _install_reader

    memory = create_async_engine("sqlite+aiosqlite://")
    _install_reader(memory)
    assert memory.sync_engine not in _READERS
    await memory.dispose()
    engine = create_engine(backend_url)
    pool = create_session_pool(engine)
    async with pool() as s:
        await Repos.build(s, FieldCipher(b"k" * 32)).user_and_state(1, None)
    reader = _READERS[engine.sync_engine]
    assert reader.connections
    await engine.dispose()
    assert reader.connections == {}


async def test_dispose_closes_the_connections_of_every_thread(backend_url: str) -> None:
    """One connection per thread that read; the engine's dispose (from the loop's thread)
    closes them all, also the other thread's."""
    import threading

    from storage.database import _READERS

    engine = create_engine(backend_url)
    reader = _READERS[engine.sync_engine]
    query = (select(literal_column("1").label("one")), {})
    assert reader.firsts(engine.dialect, (query,)) is not None
    other = threading.Thread(target=lambda: reader.firsts(engine.dialect, (query,)))
    other.start()
    other.join()
    assert len(reader.connections) == 2
    await engine.dispose()
    assert reader.connections == {}
