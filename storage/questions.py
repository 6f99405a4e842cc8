"""Unanswered questions (redacted, encrypted, no user link) and 👍/👎 feedback per topic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.qa.redact import question_key, redact
from storage.encryption import FieldCipher
from storage.models import Feedback, UnansweredQuestion
from storage.write_behind import LogRecord, WriteBehind

TEXT_CONTEXT = "unanswered.text"
# Statements of the write-behind records (built once: records of one statement share a batch).
_UNANSWERED = insert(UnansweredQuestion)
_VOTE = {
    "sqlite": sqlite_insert(Feedback).on_conflict_do_nothing(index_elements=[Feedback.vote_key]),
    "postgresql": pg_insert(Feedback).on_conflict_do_nothing(index_elements=[Feedback.vote_key]),
}


def phrasing_index(cipher: FieldCipher, text: str) -> str:
    """Blind index of a question's normalised form: equal for repeats, readable by nobody."""
    return cipher.blind_index("question:" + question_key(redact(text)))


@dataclass(frozen=True, slots=True)
class UnansweredGroup:
    """Repeats of one unanswered question: the latest row's id and text, and how many."""

    id: int
    text: str
    lang: str
    count: int


class QuestionRepo:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    async def log_unanswered(
        self, text: str, lang: str, score: float, now: datetime,
        later: WriteBehind,
    ) -> None:
        """Keep the redacted question for admins; through `later` it is written within about
        half a second, in a batch, and lost if the process is killed before (a log row). A
        closed writer (`WriteBehind(None)`) writes it now, in this session."""
        kept = redact(text)
        if not kept:
            return
        # No owner: the row has no user link, so /forget has nothing of the user's to drop.
        record = LogRecord(_UNANSWERED, {
            "text_enc": self.cipher.encrypt(kept, TEXT_CONTEXT),
            "group_key": phrasing_index(self.cipher, kept),
            "lang": lang, "score": score, "asked_at": now,
        })
        await later.add(record, self.session)

    async def top_unanswered(self, since: datetime, limit: int = 10) -> list[UnansweredGroup]:
        """The most repeated questions asked since `since`, most repeated first."""
        count, last = func.count().label("n"), func.max(UnansweredQuestion.id).label("last")
        rows = (
            await self.session.execute(
                select(last, count)
                .where(UnansweredQuestion.asked_at >= since)
                .group_by(UnansweredQuestion.group_key)
                .order_by(count.desc(), last.desc())
                .limit(limit)
            )
        ).all()
        latest = {
            q.id: q
            for q in await self.session.scalars(
                select(UnansweredQuestion).where(UnansweredQuestion.id.in_([r[0] for r in rows]))
            )
        }
        return [self._group(latest[row_id], int(n)) for row_id, n in rows]

    def _group(self, row: UnansweredQuestion, count: int) -> UnansweredGroup:
        return UnansweredGroup(row.id, self.cipher.decrypt(row.text_enc, TEXT_CONTEXT), row.lang,
                               count)

    async def get(self, question_id: int) -> UnansweredGroup | None:
        row = await self.session.get(UnansweredQuestion, question_id)
        return None if row is None else self._group(row, 1)

    async def take_group(self, question_id: int) -> UnansweredGroup | None:
        """Delete the question and its repeats once an admin decided; None if already gone
        (another tap, another admin or the retention purge got there first)."""
        row = await self.session.get(UnansweredQuestion, question_id)
        if row is None:
            return None
        group = self._group(row, 1)
        result = await self.session.execute(
            delete(UnansweredQuestion).where(UnansweredQuestion.group_key == row.group_key)
        )
        removed = int(result.rowcount)  # type: ignore[attr-defined]
        return UnansweredGroup(group.id, group.text, group.lang, removed) if removed else None

    async def purge_unanswered(self, before: datetime) -> int:
        """Delete questions asked before `before` (the retention period); how many went."""
        result = await self.session.execute(
            delete(UnansweredQuestion).where(UnansweredQuestion.asked_at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def record_feedback(
        self, vote_key: str, topic: str, helpful: bool, now: datetime,
        later: WriteBehind,
    ) -> bool:
        """False if this answer was already rated (one vote per answer message). The vote is
        queued after a read (stored or queued already?); a twin vote on another instance in the
        same half second is then thanked too, but the conflict clause still stores one row."""
        statement = _VOTE[self.session.get_bind().dialect.name]
        values = {"vote_key": vote_key, "topic": topic, "helpful": helpful, "voted_at": now}
        record = LogRecord(statement, values, key=("vote", vote_key))
        if later.queued(record.key) or await self.session.scalar(
            select(exists().where(Feedback.vote_key == vote_key))
        ):
            return False
        return await later.add(record, self.session)

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
