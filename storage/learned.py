"""Phrasings admins taught the matcher: redacted, encrypted, no link to who asked them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.qa.redact import redact
from storage.encryption import FieldCipher
from storage.models import LearnedPhrasing
from storage.questions import phrasing_index

TEXT_CONTEXT = "learned.text"


@dataclass(frozen=True, slots=True)
class LearnedDTO:
    id: int
    text: str
    topic: str | None  # None: out of scope
    lang: str
    created_at: datetime


class LearnedRepo:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    def _dto(self, row: LearnedPhrasing) -> LearnedDTO:
        text = self.cipher.decrypt(row.text_enc, TEXT_CONTEXT)
        return LearnedDTO(row.id, text, row.topic, row.lang, row.created_at)

    async def save(
        self, text: str, topic: str | None, lang: str, admin_id: int, now: datetime
    ) -> LearnedDTO:
        """Teach one phrasing; the same question taught again takes the newer decision."""
        text = redact(text)
        index = phrasing_index(self.cipher, text)
        values = dict(
            topic=topic, lang=lang, text_enc=self.cipher.encrypt(text, TEXT_CONTEXT),
            created_at=now, created_by=self.cipher.blind_index(admin_id),
        )
        row = await self._by_index(index)
        if row is None:
            try:
                async with self.session.begin_nested():
                    row = LearnedPhrasing(text_index=index, **values)
                    self.session.add(row)
            except IntegrityError:  # another admin taught it at the same moment
                row = await self._by_index(index)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        await self.session.flush()
        return self._dto(row)

    async def _by_index(self, index: str) -> LearnedPhrasing | None:
        return await self.session.scalar(
            select(LearnedPhrasing).where(LearnedPhrasing.text_index == index)
        )

    async def remove(self, phrasing_id: int) -> LearnedDTO | None:
        """Delete one phrasing; None if it is already gone."""
        row = await self.session.get(LearnedPhrasing, phrasing_id)
        if row is None:
            return None
        found = self._dto(row)
        # A bulk delete's row count, not session.delete: a double tap must lose quietly.
        result = await self.session.execute(
            delete(LearnedPhrasing).where(LearnedPhrasing.id == phrasing_id)
        )
        return found if result.rowcount else None  # type: ignore[attr-defined]

    async def list(self, limit: int | None = None) -> list[LearnedDTO]:
        """Newest first."""
        query = select(LearnedPhrasing).order_by(LearnedPhrasing.id.desc()).limit(limit)
        return [self._dto(row) for row in await self.session.scalars(query)]

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count(LearnedPhrasing.id))) or 0)

    async def fingerprint(self) -> tuple[int, int, datetime | None]:
        """Changes whenever a phrasing is added, re-taught or removed (cheap to poll)."""
        row = (
            await self.session.execute(
                select(
                    func.count(LearnedPhrasing.id),
                    func.max(LearnedPhrasing.id),
                    func.max(LearnedPhrasing.created_at),
                )
            )
        ).one()
        return int(row[0]), int(row[1] or 0), row[2]
