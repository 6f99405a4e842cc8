"""Persisted dialog state, so an /addkey dialog survives a bot restart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from storage.encryption import FieldCipher
from storage.models import FsmRecord


class FsmRepo:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher
        # Rows already looked up in this session, absent ones too: aiogram reads the state for
        # every update and handlers read it again (2.1 SELECTs per update, benchmarks/load.py),
        # and the session's identity map remembers found rows only. A session serves one
        # update under its user's lock, and only this repository writes FSM rows, so nobody
        # changes them behind its back (a rollback or bulk delete is caught below).
        self._rows: dict[str, FsmRecord | None] = {}

    async def _row(self, key: str) -> FsmRecord | None:
        if key in self._rows:
            row = self._rows[key]
            if row is None:
                return None
            state = inspect(row)
            # Not after a rollback (expired or gone) or a bulk delete (/forget): ask again.
            if state.pending or (state.persistent and not state.expired_attributes):
                return row
        row = await self.session.get(FsmRecord, self.cipher.blind_index(key))
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
            row = FsmRecord(
                key_index=self.cipher.blind_index(key),
                owner_index=self.cipher.blind_index(owner_tg_id),
                updated_at=now,
            )
            self.session.add(row)
            self._rows[key] = row
        if state is not ...:
            row.state = state
        if data is not ...:
            row.data_enc = self.cipher.encrypt_json(data, "fsm.data") if data else None
        row.updated_at = now
        if row.state is None and row.data_enc is None:
            await self.session.delete(row)
            self._rows[key] = None
