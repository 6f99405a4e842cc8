"""The repositories a handler receives, grouped over one session."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from storage.broadcasts import BroadcastRepo
from storage.claims import ClaimRepo
from storage.database import first_rows
from storage.dto import UserDTO
from storage.encryption import FieldCipher
from storage.fsm import FsmRepo
from storage.keys import KeyRepo
from storage.learned import LearnedRepo
from storage.questions import QuestionRepo
from storage.reminders import ReminderRepo
from storage.users import UserRepo


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
        same greenlet hop and cached for `fsm` (aiogram reads it next, on every update)."""
        if fsm_key is None or (query := self.fsm.read_query(fsm_key)) is None:
            return await self.users.get_by_tg(tg_id)
        user_row, fsm_row = await first_rows(self.session, self.users.by_tg_query(tg_id), query)
        self.fsm.remember(fsm_key, fsm_row)
        return self.users.from_row(user_row)

    async def commit(self) -> None:
        await self.session.commit()
