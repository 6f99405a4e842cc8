"""The repositories a handler receives, grouped over one session."""

from __future__ import annotations

from functools import cached_property
from typing import cast

from sqlalchemy import Table, bindparam, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.broadcasts import BroadcastRepo
from storage.claims import ClaimRepo
from storage.database import first_rows
from storage.dto import UserDTO
from storage.encryption import FieldCipher
from storage.fsm import FsmRepo
from storage.keys import KeyRepo
from storage.learned import LearnedRepo
from storage.models import FsmRecord, User
from storage.questions import QuestionRepo
from storage.reminders import ReminderRepo
from storage.users import UserRepo

# The user row and the dialog state every update starts with, in one statement: on PostgreSQL
# one round trip instead of two, on SQLite one statement instead of two. The one-row `(SELECT 1)`
# on the left keeps a row when either is missing (a NULL `fsm_key`: no state row).
_USERS, _FSM = cast(Table, User.__table__), cast(Table, FsmRecord.__table__)
_USER_AND_STATE = select(
    _USERS, _FSM.c.key_index.label("fsm_key"), _FSM.c.state, _FSM.c.data_enc
).select_from(
    select(literal_column("1").label("one")).subquery()
    .outerjoin(_USERS, _USERS.c.tg_index == bindparam("tg_index"))
    .outerjoin(_FSM, _FSM.c.key_index == bindparam("key"))
)


class Repos:
    """The repositories of one session, each made on first use: an update uses two or three
    of the eight, and it is built for every update."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session, self.cipher = session, cipher

    @classmethod
    def build(cls, session: AsyncSession, cipher: FieldCipher) -> Repos:
        return cls(session, cipher)

    @cached_property
    def users(self) -> UserRepo:
        return UserRepo(self.session, self.cipher)

    @cached_property
    def keys(self) -> KeyRepo:
        return KeyRepo(self.session, self.cipher)

    @cached_property
    def fsm(self) -> FsmRepo:
        return FsmRepo(self.session, self.cipher)

    @cached_property
    def reminders(self) -> ReminderRepo:
        return ReminderRepo(self.session)

    @cached_property
    def broadcasts(self) -> BroadcastRepo:
        return BroadcastRepo(self.session, self.cipher)

    @cached_property
    def questions(self) -> QuestionRepo:
        return QuestionRepo(self.session, self.cipher)

    @cached_property
    def claims(self) -> ClaimRepo:
        return ClaimRepo(self.session, self.cipher)

    @cached_property
    def learned(self) -> LearnedRepo:
        return LearnedRepo(self.session, self.cipher)

    async def user_and_state(self, tg_id: int, fsm_key: str | None) -> UserDTO | None:
        """The update's user by Telegram id; with `fsm_key`, that dialog state is read in the
        same statement and cached for `fsm` (aiogram reads it next, on every update)."""
        if fsm_key is None or (query := self.fsm.read_query(fsm_key)) is None:
            return await self.users.get_by_tg(tg_id)
        params = {**self.users.by_tg_query(tg_id)[1], **query[1]}
        (row,) = await first_rows(self.session, (_USER_AND_STATE, params))
        assert row is not None  # the left side always has its one row
        self.fsm.remember(fsm_key, row if row.fsm_key is not None else None)
        return self.users.from_row(row if row.id is not None else None, tg_id)

    async def commit(self) -> None:
        await self.session.commit()
