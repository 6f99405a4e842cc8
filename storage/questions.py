"""Unanswered questions (anonymised, no user link) and 👍/👎 feedback per topic."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Feedback, UnansweredQuestion

MAX_STORED = 300
_EMAIL = re.compile(r"\S+@\S+")
_LINK = re.compile(r"https?://\S+|@\w+")
_DIGITS = re.compile(r"\d")


def anonymise(text: str) -> str:
    """Keep the wording admins need, drop what could identify someone: numbers, mails, links."""
    text = _EMAIL.sub("<email>", text)
    text = _LINK.sub("<link>", text)
    text = _DIGITS.sub("#", text)
    return " ".join(text.split())[:MAX_STORED]


class QuestionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def log_unanswered(self, text: str, lang: str, score: float, now: datetime) -> None:
        self.session.add(
            UnansweredQuestion(text=anonymise(text), lang=lang, score=score, asked_at=now)
        )
        await self.session.flush()

    async def top_unanswered(self, since: datetime, limit: int = 10) -> list[tuple[str, int]]:
        count = func.count().label("n")
        rows = await self.session.execute(
            select(UnansweredQuestion.text, count)
            .where(UnansweredQuestion.asked_at >= since)
            .group_by(UnansweredQuestion.text)
            .order_by(count.desc(), UnansweredQuestion.text)
            .limit(limit)
        )
        return [(text, int(n)) for text, n in rows.all()]

    async def record_feedback(
        self, vote_key: str, topic: str, helpful: bool, now: datetime
    ) -> bool:
        """False if this answer was already rated (one vote per answer message)."""
        try:
            async with self.session.begin_nested():
                self.session.add(
                    Feedback(vote_key=vote_key, topic=topic, helpful=helpful, voted_at=now)
                )
        except IntegrityError:
            return False
        return True

    async def feedback_counts(self) -> dict[str, tuple[int, int]]:
        """topic → (helpful, not helpful)."""
        rows = await self.session.execute(
            select(Feedback.topic, Feedback.helpful, func.count()).group_by(
                Feedback.topic, Feedback.helpful
            )
        )
        out: dict[str, tuple[int, int]] = {}
        for topic, helpful, n in rows.all():
            up, down = out.get(topic, (0, 0))
            out[topic] = (up + int(n), down) if helpful else (up, down + int(n))
        return out
