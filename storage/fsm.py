"""Persisted dialog state, so an /addkey dialog survives a bot restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Executable, Row, Table, bindparam, delete, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from storage import deferred, prepared
from storage.database import Query, first_row
from storage.encryption import FieldCipher
from storage.models import FsmRecord

# Core statements built once, run on the session's connection: aiogram reads the state on
# every update, and the ORM's get, unit of work and flush cost several times the SQL itself
# (cProfile, benchmarks/load.py: the read 1.1 ms and the flush most of a 1.6 ms commit).
_FSM = cast(Table, FsmRecord.__table__)
_READ = select(_FSM.c.state, _FSM.c.data_enc).where(_FSM.c.key_index == bindparam("key"))
_INSERT = insert(_FSM)
_UPDATE = (
    update(_FSM)
    .where(_FSM.c.key_index == bindparam("key"))
    .values(state=bindparam("new_state"), data_enc=bindparam("new_data"),
            updated_at=bindparam("now"))
)
_DELETE = delete(_FSM).where(_FSM.c.key_index == bindparam("key"))

# In session.info: the rows already looked up in this session (absent ones too), and the keys
# written in its open transaction (forgotten unless that transaction commits).
_ROWS = "kilt.fsm_rows"
_WRITTEN = "kilt.fsm_written"


@dataclass(slots=True)
class _Stored:
    state: str | None
    data_enc: bytes | None


def forget_cached_states(session: AsyncSession) -> None:
    """After a bulk change of fsm_records in `session` (/forget): read them again."""
    rows = session.info.get(_ROWS)
    if rows:
        rows.clear()


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if not session.in_nested_transaction():  # a released savepoint is not committed yet
        session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    # Rolled back, closed, or a savepoint ended: what was written there may be gone. After a
    # savepoint the keys stay marked: a row read again belongs to the outer transaction.
    info = session.info
    written = info.get(_WRITTEN) if transaction.nested else info.pop(_WRITTEN, None)
    if written:
        rows = session.info.get(_ROWS, {})
        for key in written:
            rows.pop(key, None)


class FsmRepo:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher
        # aiogram reads the state for every update and handlers read it again: one SELECT per
        # key and session. A session serves one update under its user's lock, and only this
        # repository writes FSM rows, so nobody changes them behind its back; a rollback
        # forgets what it wrote (the listeners above), /forget calls forget_cached_states.
        self._rows: dict[str, _Stored | None] = session.info.setdefault(_ROWS, {})

    async def _row(self, key: str) -> _Stored | None:
        query = self.read_query(key)
        if query is None:
            return self._rows[key]
        return self.remember(key, await first_row(self.session, *query))

    def read_query(self, key: str) -> Query | None:
        """The statement that reads `key`, to batch it with others; None when already cached.
        Its row must then be handed to `remember`, in the same session."""
        if key in self._rows:
            return None
        return _READ, {"key": self.cipher.blind_index(key)}

    def remember(self, key: str, found: Row[Any] | None) -> _Stored | None:
        """Caches (and returns) the row `read_query(key)` returned."""
        row = None if found is None else _Stored(found.state, found.data_enc)
        self._rows[key] = row
        return row

    async def get_state(self, key: str) -> str | None:
        row = await self._row(key)
        return None if row is None else row.state

    async def get_data(self, key: str) -> dict[str, Any]:
        row = await self._row(key)
        if row is None or row.data_enc is None:
            return {}
        data = self.cipher.decrypt_json(row.data_enc, "fsm.data")
        return data if isinstance(data, dict) else {}

    async def save(
        self, key: str, owner_tg_id: int, now: datetime, *, state: Any = ..., data: Any = ...
    ) -> None:
        row = await self._row(key)
        if row is None:
            if (state is ... or state is None) and not (data is not ... and data):
                return  # clearing something that was never stored
            new_state, new_data = None, None
        else:
            new_state, new_data = row.state, row.data_enc
        if state is not ...:
            new_state = state
        if data is not ...:
            new_data = self.cipher.encrypt_json(data, "fsm.data") if data else None
        index = self.cipher.blind_index(key)
        # Marked before the statement: if it fails, the transaction's end forgets the key (a
        # key marked while no transaction is open is forgotten when the next one ends).
        self.session.info.setdefault(_WRITTEN, set()).add(key)
        values = None if new_state is None and new_data is None else {
            "owner": self.cipher.blind_index(owner_tg_id), "state": new_state,
            "data": new_data, "now": now,
        }
        await self.session.run_sync(_write, index, row is not None, values)
        self._rows[key] = None if values is None else _Stored(new_state, new_data)


def _write(session: Session, index: str, existed: bool, values: dict[str, Any] | None) -> None:
    """Writes the row of `index` as `values` (None: no row). Held back (storage/deferred.py)
    where the engine allows: a second save of the key in the transaction replaces the first."""
    conn = session.connection()
    writes = deferred.held(conn)
    earlier = writes.get(index) if writes is not None else None
    if earlier is not None:
        existed = earlier[2]  # the database still holds what it held before the first save
    statement: Executable | None
    params: dict[str, Any]
    if values is None:
        statement, params = (_DELETE if existed else None), {"key": index}
    elif existed:
        statement, params = _UPDATE, {
            "key": index, "new_state": values["state"], "new_data": values["data"],
            "now": values["now"],
        }
    else:
        statement, params = _INSERT, {
            "key_index": index, "owner_index": values["owner"], "state": values["state"],
            "data_enc": values["data"], "updated_at": values["now"],
        }
    if writes is not None:
        writes[index] = (statement, params, existed)
    elif statement is not None:
        prepared.execute(conn, statement, params, False)
