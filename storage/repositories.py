"""The repositories a handler receives, grouped over one session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage.broadcasts import BroadcastRepo
from storage.claims import ClaimRepo
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

    async def commit(self) -> None:
        await self.session.commit()
