"""The repositories a handler receives, grouped over one session."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class Repos:
    session: AsyncSession
    users: UserRepo
    keys: KeyRepo
    fsm: FsmRepo
    reminders: ReminderRepo
    broadcasts: BroadcastRepo
    questions: QuestionRepo
    claims: ClaimRepo
    learned: LearnedRepo

    @classmethod
    def build(cls, session: AsyncSession, cipher: FieldCipher) -> Repos:
        return cls(
            session=session,
            users=UserRepo(session, cipher),
            keys=KeyRepo(session, cipher),
            fsm=FsmRepo(session, cipher),
            reminders=ReminderRepo(session),
            broadcasts=BroadcastRepo(session, cipher),
            questions=QuestionRepo(session, cipher),
            claims=ClaimRepo(session, cipher),
            learned=LearnedRepo(session, cipher),
        )

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
