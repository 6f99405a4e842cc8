"""storage/prepared.py runs the hot statements on the DBAPI cursor: the rows, the errors and the
transaction must be what `Connection.execute` gives, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select, text
from sqlalchemy.exc import IntegrityError

from storage import prepared
from storage.database import SessionPool, first_row, run_core
from storage.dto import KeyDraft
from storage.encryption import FieldCipher
from storage.fsm import _INSERT, _READ
from storage.keys import _COUNT, _LIST
from storage.models import TZDateTime, User
from storage.repositories import _USER_AND_STATE, Repos
from storage.users import _BY_TG

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


async def _seed(pool: SessionPool, cipher: FieldCipher) -> dict[str, Any]:
    async with pool() as s:
        repos = Repos.build(s, cipher)
        user = await repos.users.create(71_001, "kk", "Asia/Almaty", NOW, True)
        await repos.keys.add(user.id, KeyDraft(kind="file", purpose="both",
                                               expires_on=NOW.date(), label="A"), NOW)
        await repos.fsm.save("k1", 71_001, NOW, state="KeyForm:kind", data={"a": 1})
        await s.commit()
    return {"tg_index": cipher.blind_index(71_001), "key": cipher.blind_index("k1"),
            "user_id": user.id}


async def test_rows_are_those_of_connection_execute(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    params = await _seed(backend_pool, cipher)
    missing = {**params, "tg_index": "absent", "key": "absent"}
    cases = [(_BY_TG, params), (_READ, params), (_USER_AND_STATE, params),
             (_USER_AND_STATE, missing), (_COUNT, params), (_LIST, params)]
    async with backend_pool() as s:
        for statement, values in cases:
            def both(sync: Any, statement: Any = statement, values: Any = values) -> Any:
                conn = sync.connection()
                wanted = {k: values[k] for k in statement.compile().params}
                ours = prepared.execute(conn, statement, wanted, True)
                theirs = conn.execute(statement, wanted).all()
                return ours, theirs

            ours, theirs = await s.run_sync(both)
            assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]
            assert [r._fields for r in ours] == [tuple(t._fields) for t in theirs]
        user = await first_row(s, _BY_TG, {"tg_index": params["tg_index"]})
        assert user is not None and user.created_at == NOW  # TZDateTime: aware UTC back


async def test_literals_and_bind_types_are_applied(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    await _seed(backend_pool, cipher)
    users = User.__table__
    since = bindparam("since", type_=TZDateTime())
    query = select(users.c.language).where(users.c.created_at >= since, users.c.language == "kk")
    async with backend_pool() as s:
        assert await first_row(s, query, {"since": NOW}) == ("kk",)
        assert await first_row(s, query, {"since": datetime(2027, 1, 1, tzinfo=UTC)}) is None


async def test_errors_are_sqlalchemy_errors_and_roll_back(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    params = await _seed(backend_pool, cipher)
    row = {"key_index": params["key"], "owner_index": "o", "state": "x", "data_enc": None,
           "updated_at": NOW}
    async with backend_pool() as s:
        with pytest.raises(IntegrityError):
            await run_core(s, _INSERT, row)  # the key exists
        await s.rollback()
        found = await first_row(s, _READ, {"key": params["key"]})
        assert found is not None and found.state == "KeyForm:kind"


async def test_the_sql_is_seen_by_cursor_events(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    params = await _seed(backend_pool, cipher)
    engine = backend_pool.kw["bind"].sync_engine
    seen: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, values: Any, *args: Any) -> None:
        seen.append((statement, values))

    event.listen(engine, "before_cursor_execute", before)
    try:
        async with backend_pool() as s:
            await s.connection()  # begun: the read is the session's (not SQLite's reader's)
            await first_row(s, _READ, {"key": params["key"]})
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert len(seen) == 1 and "fsm_records" in seen[0][0]
    assert list(seen[0][1]) == [params["key"]]


async def test_reads_open_no_transaction_on_postgresql(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    """A read-only update costs no BEGIN and COMMIT round trips; the first write begins."""
    if backend_pool.kw["bind"].dialect.name != "postgresql":
        pytest.skip("PostgreSQL's sessions only")
    params = await _seed(backend_pool, cipher)
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND state LIKE 'idle in transaction%'")
    async with backend_pool() as s, backend_pool() as watcher:
        await first_row(s, _READ, {"key": params["key"]})
        assert (await watcher.execute(waiting)).scalar() == 0
        await watcher.rollback()
        await Repos.build(s, cipher).fsm.save("k1", 71_001, NOW, state="KeyForm:holder")
        found = await first_row(s, _READ, {"key": params["key"]})  # the held write goes first
        assert found is not None and found.state == "KeyForm:holder"
        assert (await watcher.execute(waiting)).scalar() == 1
        await watcher.rollback()
        await s.rollback()  # the write is undone: reads and writes were one unit of work
        assert await Repos.build(s, cipher).fsm.get_state("k1") == "KeyForm:kind"
