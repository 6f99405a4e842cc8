"""Users: looked up by a blind index of their Telegram id; the id itself is encrypted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Query, all_rows, first_row
from storage.dto import UserDTO
from storage.encryption import FieldCipher
from storage.fsm import forget_cached_states
from storage.models import (
    Delivery,
    FsmRecord,
    KeyRenewal,
    Reminder,
    SigningKey,
    TipSent,
    TZDateTime,
    User,
)
from storage.write_behind import LogRecord, WriteBehind

# Last seen, written behind (one executemany per flush); never moves the time backwards.
_SEEN_AT = bindparam("seen_at", type_=TZDateTime())
_SEEN = (
    update(User)
    .where(User.id == bindparam("user_id"), User.last_seen_at < _SEEN_AT)
    .values(last_seen_at=_SEEN_AT)
)

# Built once: the user row is read on every update. A Core statement on the table (its column
# types still convert values, e.g. TZDateTime) run on the session's connection costs about a
# third of the ORM query, which also built the statement and mapped a User object each time.
_USERS = User.__table__
_BY_TG = select(_USERS).where(_USERS.c.tg_index == bindparam("tg_index"))
_BY_ID = select(_USERS).where(_USERS.c.id == bindparam("user_id"))
_BY_IDS = select(_USERS).where(_USERS.c.id.in_(bindparam("user_ids", expanding=True)))


class UserRepo:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    def _dto(self, row: User | Row[Any], tg_id: int | None = None) -> UserDTO:
        """`tg_id`: the id the row was found by (its blind index), so not decrypted again."""
        return UserDTO(
            id=row.id,
            tg_id=tg_id if tg_id is not None else int(
                self.cipher.decrypt(row.tg_id_enc, "users.tg_id")
            ),
            language=row.language,
            timezone=row.timezone,
            consent_at=row.consent_at,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            blocked_at=row.blocked_at,
            expiry_offsets=row.expiry_offsets,
            activity_mode=row.activity_mode,
            window_start=row.window_start,
            window_end=row.window_end,
            weekly_tips=row.weekly_tips,
            broadcasts_opt_in=row.broadcasts_opt_in,
            last_checkup_at=row.last_checkup_at,
        )

    async def get_by_tg(self, tg_id: int) -> UserDTO | None:
        row = await first_row(self.session, *self.by_tg_query(tg_id))
        return self.from_row(row, tg_id)

    def by_tg_query(self, tg_id: int) -> Query:
        """The statement `get_by_tg` runs, to batch it with others (Repos.user_and_state)."""
        return _BY_TG, {"tg_index": self.cipher.blind_index(tg_id)}

    def from_row(self, row: Row[Any] | None, tg_id: int | None = None) -> UserDTO | None:
        return None if row is None else self._dto(row, tg_id)

    async def get(self, user_id: int) -> UserDTO | None:
        return self.from_row(await first_row(self.session, _BY_ID, {"user_id": user_id}))

    async def get_many(self, user_ids: list[int]) -> dict[int, UserDTO]:
        """Users by id in one query (absent ids are left out)."""
        if not user_ids:
            return {}
        rows = await all_rows(self.session, _BY_IDS, {"user_ids": list(user_ids)})
        return {row.id: self._dto(row) for row in rows}

    async def create(
        self, tg_id: int, language: str, timezone: str, now: datetime, consent: bool
    ) -> UserDTO:
        """Create the user row; only called once the user has given consent."""
        row = User(
            tg_index=self.cipher.blind_index(tg_id),
            tg_id_enc=self.cipher.encrypt(str(tg_id), "users.tg_id"),
            language=language,
            timezone=timezone,
            consent_at=now if consent else None,
            created_at=now,
            last_seen_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return self._dto(row, tg_id)

    async def update_settings(self, user_id: int, **values: object) -> None:
        allowed = {
            "language", "timezone", "expiry_offsets", "activity_mode", "window_start",
            "window_end", "weekly_tips", "broadcasts_opt_in", "last_checkup_at", "consent_at",
        }
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not a user setting: {sorted(unknown)}")
        await self.session.execute(update(User).where(User.id == user_id).values(**values))

    async def touch(self, user_id: int, now: datetime) -> None:
        """Record activity; a user who writes again is no longer considered blocked."""
        await self.session.execute(
            update(User).where(User.id == user_id).values(last_seen_at=now, blocked_at=None)
        )

    async def note_seen(self, user_id: int, now: datetime, later: WriteBehind) -> None:
        """Record activity within about half a second (a log write: a killed process may lose
        it). Only for a user who is not blocked: `touch` clears that marker at once."""
        await later.add(
            LogRecord(_SEEN, {"user_id": user_id, "seen_at": now}, key=("seen", user_id),
                      owner=user_id),
            self.session,
        )

    async def mark_blocked(self, user_id: int, now: datetime) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(blocked_at=now))

    async def delete_everything(self, user_id: int, tg_id: int) -> None:
        """Delete every row that belongs to the user (also what ON DELETE CASCADE would)."""
        key_ids = select(SigningKey.id).where(SigningKey.user_id == user_id)
        await self.session.execute(delete(KeyRenewal).where(KeyRenewal.key_id.in_(key_ids)))
        for model in (Reminder, Delivery, TipSent, SigningKey):
            await self.session.execute(delete(model).where(model.user_id == user_id))
        await self.session.execute(
            delete(FsmRecord).where(FsmRecord.owner_index == self.cipher.blind_index(tg_id))
        )
        forget_cached_states(self.session)
        await self.session.execute(delete(User).where(User.id == user_id))


async def export_rows(session: AsyncSession, user_id: int) -> dict[str, list[dict[str, object]]]:
    """Non-key rows that belong to a user, for /mydata (keys come decrypted from KeyRepo)."""
    out: dict[str, list[dict[str, object]]] = {}
    reminders = await session.scalars(
        select(Reminder).where(Reminder.user_id == user_id).order_by(Reminder.due_at, Reminder.id)
    )
    out["reminders"] = [
        {"kind": r.kind, "stage": r.stage, "key_id": r.key_id, "due_at": r.due_at,
         "status": r.status, "sent_at": r.sent_at}
        for r in reminders
    ]
    # Oldest first on every backend: without ORDER BY, PostgreSQL lists a row last once it is
    # updated (a new tuple at the end of the heap).
    deliveries = await session.scalars(
        select(Delivery).where(Delivery.user_id == user_id).order_by(Delivery.id)
    )
    out["broadcast_deliveries"] = [
        {"broadcast_id": d.broadcast_id, "status": d.status, "sent_at": d.sent_at}
        for d in deliveries
    ]
    tips = await session.scalars(
        select(TipSent).where(TipSent.user_id == user_id).order_by(TipSent.id)
    )
    out["tips_received"] = [{"tip": s.tip_id, "sent_at": s.sent_at} for s in tips]
    return out
