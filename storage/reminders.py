"""Reminder rows: the source of truth for what is due. Pending rows are replaced on change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Reminder

PENDING = "pending"


class ReminderRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace_pending(
        self,
        user_id: int,
        key_id: int | None,
        kinds: Iterable[str],
        planned: Sequence[tuple[str, int, datetime]],
    ) -> None:
        """Drop pending rows of `kinds` for this key (or user-level if key_id is None) and
        insert the new plan. Sent rows stay: they are the history that prevents repeats."""
        kinds = list(kinds)
        key_filter = Reminder.key_id.is_(None) if key_id is None else Reminder.key_id == key_id
        await self.session.execute(
            delete(Reminder).where(
                Reminder.user_id == user_id,
                key_filter,
                Reminder.kind.in_(kinds),
                Reminder.status == PENDING,
            )
        )
        done = await self._existing(user_id, key_id, kinds)
        for kind, stage, due_at in planned:
            if (kind, stage, due_at) in done:
                continue  # this exact reminder was already sent or skipped
            self.session.add(
                Reminder(
                    user_id=user_id, key_id=key_id, kind=kind, stage=stage, due_at=due_at,
                    status=PENDING,
                )
            )
        await self.session.flush()

    async def _existing(
        self, user_id: int, key_id: int | None, kinds: list[str]
    ) -> set[tuple[str, int, datetime]]:
        key_filter = Reminder.key_id.is_(None) if key_id is None else Reminder.key_id == key_id
        rows = await self.session.execute(
            select(Reminder.kind, Reminder.stage, Reminder.due_at).where(
                Reminder.user_id == user_id, key_filter, Reminder.kind.in_(kinds)
            )
        )
        return {(k, s, d) for k, s, d in rows.all()}

    async def cancel_for_key(self, key_id: int) -> None:
        await self.session.execute(
            delete(Reminder).where(Reminder.key_id == key_id, Reminder.status == PENDING)
        )

    async def pending_for_user(self, user_id: int) -> list[tuple[str, int, int | None, datetime]]:
        rows = await self.session.execute(
            select(Reminder.kind, Reminder.stage, Reminder.key_id, Reminder.due_at)
            .where(Reminder.user_id == user_id, Reminder.status == PENDING)
            .order_by(Reminder.due_at)
        )
        return [(k, s, key, d) for k, s, key, d in rows.all()]
