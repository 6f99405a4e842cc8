"""aiogram FSM storage in the database: dialogs survive restarts; data is encrypted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from bot.context import Clock, current_repos, utc_now
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.repositories import Repos


def storage_key(key: StorageKey) -> str:
    """The FSM row's key (blind-indexed in storage) for aiogram's StorageKey."""
    return ":".join(
        str(part)
        for part in (
            key.bot_id, key.chat_id, key.user_id, key.thread_id,
            key.business_connection_id, key.destiny,
        )
    )


class DatabaseStorage(BaseStorage):
    def __init__(self, pool: SessionPool, cipher: FieldCipher, clock: Clock = utc_now) -> None:
        self.pool = pool
        self.cipher = cipher
        self.clock = clock

    async def _write(self, key: StorageKey, **changes: Any) -> None:
        repos = current_repos.get()
        if repos is not None:
            await repos.fsm.save(storage_key(key), key.user_id, self.clock(), **changes)
            return
        async with self.pool() as session:
            own = Repos.build(session, self.cipher)
            await own.fsm.save(storage_key(key), key.user_id, self.clock(), **changes)
            await session.commit()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        repos = current_repos.get()
        if repos is not None:
            return await repos.fsm.get_state(storage_key(key))
        async with self.pool() as session:
            return await Repos.build(session, self.cipher).fsm.get_state(storage_key(key))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        repos = current_repos.get()
        if repos is not None:
            return await repos.fsm.get_data(storage_key(key))
        async with self.pool() as session:
            return await Repos.build(session, self.cipher).fsm.get_data(storage_key(key))

    async def close(self) -> None:
        return None
