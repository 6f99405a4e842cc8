"""Idempotency keys of button presses: the first press claims its key, a repeat finds it taken.

`claim` is one INSERT … ON CONFLICT DO NOTHING whose row count decides who acts, so it holds
across sessions and processes on SQLite and PostgreSQL alike (a concurrent twin waits for the
first transaction, then finds the row). Keys are blind indexes: no Telegram id is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.encryption import FieldCipher
from storage.models import ActionClaim


class ClaimRepo:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    def key_for(self, *parts: object) -> str:
        """The claim key of e.g. ("tap", chat_id, message_id, action); HMAC'd, so a chat id
        never reaches the table in clear."""
        return self.cipher.blind_index(":".join(str(p) for p in parts))

    async def claim(self, key: str, now: datetime) -> bool:
        """True for the first claim of `key`, False when it was already claimed."""
        dialect = self.session.get_bind().dialect.name
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        stmt = insert(ActionClaim).values(key=key, created_at=now).on_conflict_do_nothing(
            index_elements=[ActionClaim.key]
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def is_claimed(self, key: str) -> bool:
        return bool(await self.session.scalar(select(exists().where(ActionClaim.key == key))))

    async def purge(self, before: datetime) -> int:
        """Forget claims older than `before` (a double tap is seconds apart, not weeks)."""
        result = await self.session.execute(
            delete(ActionClaim).where(ActionClaim.created_at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
