"""The weekly tip: who is due one, which tips they had in the current round, and the record
that is written before sending (so a crash never sends the same tip twice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.encryption import FieldCipher
from storage.models import TipSent, User


@dataclass(frozen=True, slots=True)
class TipRecipient:
    user_id: int
    chat_id: int
    lang: str


class WeeklyTipsRepo:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    async def due(self, since: datetime, after_user: int, limit: int) -> list[TipRecipient]:
        """Users who want weekly tips and got none since `since`, by id after after_user."""
        recent = exists().where(TipSent.user_id == User.id, TipSent.sent_at >= since)
        rows = await self.session.execute(
            select(User.id, User.tg_id_enc, User.language)
            .where(User.weekly_tips.is_(True), User.consent_at.is_not(None),
                   User.blocked_at.is_(None), ~recent, User.id > after_user)
            .order_by(User.id).limit(limit)
        )
        return [TipRecipient(u, int(self.cipher.decrypt(enc, "users.tg_id")), lang)
                for u, enc, lang in rows.all()]

    async def current_round(self, user_id: int) -> tuple[int, set[str]]:
        """The user's round (1 before any tip) and the tip ids already sent in it."""
        rnd = await self.session.scalar(
            select(func.max(TipSent.round)).where(TipSent.user_id == user_id)
        )
        rnd = int(rnd or 1)
        ids = await self.session.scalars(
            select(TipSent.tip_id).where(TipSent.user_id == user_id, TipSent.round == rnd)
        )
        return rnd, set(ids)

    async def record(self, user_id: int, tip_id: str, rnd: int, now: datetime) -> bool:
        """Claim (user, tip, round); False when another run already did."""
        try:
            async with self.session.begin_nested():
                self.session.add(TipSent(user_id=user_id, tip_id=tip_id, round=rnd, sent_at=now))
        except IntegrityError:
            return False
        return True
