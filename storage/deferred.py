"""Writes held back until their connection runs anything else, or commits.

aiogram stores one dialog step as two calls (`set_state`, then `set_data` or `update_data`),
each a write of the same fsm_records row. Held back per key, the second replaces the first, and
one statement goes out (on PostgreSQL one round trip less per step, and the BEGIN goes with it).
A held write runs before the next statement its connection executes (any: a read, an ORM flush,
a SAVEPOINT or RELEASE), or before its COMMIT, so nothing ever reads around it; a rollback drops
it. Only engines made by storage.database.create_engine hold writes back; on others (and for
anything but the bot's own prebuilt statements) writes go out at once.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable
from typing import Any

from sqlalchemy import Executable, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import prepared

# In the pooled connection's info: key -> (statement or None for "nothing to write", its
# parameters, whether the row existed before the first held write of this key).
_HELD = "kilt.held_writes"
Held = dict[Hashable, tuple[Executable | None, dict[str, Any], bool]]
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def install(engine: AsyncEngine) -> None:
    """Held writes on `engine`: run before any statement and at commit, dropped on rollback."""
    sync_engine = engine.sync_engine
    _ENGINES.add(sync_engine)
    event.listen(sync_engine, "before_cursor_execute", _before_statement)
    event.listen(sync_engine, "commit", _flush)
    event.listen(sync_engine, "rollback", _drop)
    event.listen(sync_engine, "checkin", _forget)  # never handed to the next user
    event.listen(sync_engine, "invalidate", _forget)  # lost with the connection's transaction


def held(conn: Connection) -> Held | None:
    """The writes `conn` holds back (to add to); None: this engine writes at once."""
    if conn.engine not in _ENGINES:
        return None
    writes: Held = conn.info.setdefault(_HELD, {})
    return writes


def _info(conn: Connection) -> dict[Any, Any]:
    """The connection's info; empty once it has lost its DBAPI connection (`conn.info` would
    then try to reconnect, and fail inside the very rollback that would recover it)."""
    return {} if conn.closed or conn.invalidated else conn.info


def _flush(conn: Connection) -> None:
    writes = _info(conn).pop(_HELD, None)  # popped first: the writes' own statements pass by
    if writes:
        for statement, params, _existed in writes.values():
            if statement is not None:
                prepared.execute(conn, statement, params, False)


def _before_statement(conn: Connection, *_args: Any) -> None:
    _flush(conn)


def _drop(conn: Connection) -> None:
    _info(conn).pop(_HELD, None)


def _forget(_dbapi_connection: Any, record: Any, *_exception: Any) -> None:
    if record is not None:
        record.info.pop(_HELD, None)
