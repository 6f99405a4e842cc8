"""Persisted dialog state, so an /addkey dialog survives a bot restart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.encryption import FieldCipher
from storage.models import FsmRecord


class FsmRepo:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    async def _row(self, key: str) -> FsmRecord | None:
        return await self.session.get(FsmRecord, self.cipher.blind_index(key))

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
        if state is not ...:
            row.state = state
        if data is not ...:
            row.data_enc = self.cipher.encrypt_json(data, "fsm.data") if data else None
        row.updated_at = now
        if row.state is None and row.data_enc is None:
            await self.session.delete(row)
