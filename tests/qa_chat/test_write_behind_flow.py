"""Log rows written behind, through the real Dispatcher as bot/runtime.py builds it: unanswered
questions and votes land at the flush and /stats shows them; a double vote is refused while the
first is still queued; last seen is written behind but a blocked user is unblocked at once;
/forget drops the user's queued last-seen record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import event, select, update

from bot.app import build_dispatcher
from bot.broadcast.engine import BroadcastEngine
from bot.config import Settings
from bot.i18n import Translator
from bot.qa.service import QAService
from handlers.privacy import ForgetCallback
from storage.database import SessionPool
from storage.dto import UserDTO
from storage.encryption import FieldCipher
from storage.models import Feedback, UnansweredQuestion, User
from storage.repositories import Repos
from storage.write_behind import WriteBehind
from tests.conftest import ADMIN_ID, FakeClock
from tests.support.telegram import RecordingSession, UpdateFactory
from tests.support.timers import ManualTimer, eventually

OUT_OF_SCOPE = "Әжеме зейнетақы рәсімдеуге бола ма?"


@pytest.fixture
def timer() -> ManualTimer:
    return ManualTimer()


@pytest.fixture
async def later(pool: SessionPool, timer: ManualTimer) -> AsyncIterator[WriteBehind]:
    writer = WriteBehind(pool, sleep=timer.sleep)
    yield writer
    await writer.close()


@pytest.fixture
def behind_dp(
    settings: Settings, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    clock: FakeClock, qa_service: QAService, broadcasts: BroadcastEngine, later: WriteBehind,
) -> Dispatcher:
    return build_dispatcher(settings, pool, cipher, translator, clock, qa=qa_service,
                            broadcasts=broadcasts, write_behind=later)


async def rows(pool: SessionPool, model: type[UnansweredQuestion] | type[Feedback]) -> list[object]:
    async with pool() as s:
        return list(await s.scalars(select(model)))


async def stored_user(pool: SessionPool, cipher: FieldCipher, user_id: int) -> UserDTO | None:
    async with pool() as s:
        return await Repos.build(s, cipher).users.get(user_id)


async def returning_user(
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock, tg_id: int, blocked: bool
) -> UserDTO:
    """A consented user last seen a day ago (and blocked the bot then, if `blocked`)."""
    async with pool() as s:
        repos = Repos.build(s, cipher)
        user = await repos.users.create(tg_id, "ru", "Asia/Almaty", clock.now, consent=True)
        await s.execute(update(User).where(User.id == user.id).values(
            last_seen_at=clock.now - timedelta(days=1),
            blocked_at=clock.now - timedelta(days=1) if blocked else None,
        ))
        await s.commit()
    return user


async def test_unanswered_question_and_votes_land_at_the_flush_and_reach_stats(
    behind_dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    pool: SessionPool, later: WriteBehind, timer: ManualTimer, ru_user: UpdateFactory,
) -> None:
    await behind_dp.feed_update(bot, ru_user.message(OUT_OF_SCOPE))
    assert session.last_text().startswith(translator.get("kk", "questions-fallback"))
    await behind_dp.feed_update(bot, ru_user.message("как отозвать эцп"))
    markup = session.sent()[-1].reply_markup
    assert isinstance(markup, InlineKeyboardMarkup)
    down = next(b.callback_data for b in markup.inline_keyboard[0] if b.text == "👎")
    assert down is not None
    answer = ru_user.callback(down).callback_query
    assert answer is not None and answer.message is not None
    for _ in range(2):  # a double tap while the first vote is still queued
        await behind_dp.feed_update(bot, ru_user.callback(down, message=answer.message))  # type: ignore[arg-type]
    assert [r.text for r in session.requests if isinstance(r, AnswerCallbackQuery)] == [
        translator.get("ru", "questions-thanks-feedback"),
        translator.get("ru", "questions-already-rated"),
    ]
    assert await rows(pool, UnansweredQuestion) == [] and await rows(pool, Feedback) == []

    await timer.advance(0.5)
    await eventually(lambda: flushed(pool))
    await behind_dp.feed_update(bot, ru_user.callback(down, message=answer.message))  # type: ignore[arg-type]
    assert session.sent(AnswerCallbackQuery)[-1].text == translator.get(
        "ru", "questions-already-rated"  # now the stored row answers
    )
    await behind_dp.feed_update(bot, UpdateFactory(ADMIN_ID, "ru").message("/stats"))
    stats = "\n".join(session.texts()[-2:])
    assert translator.get("ru", "stats-feedback-line", topic="revoke", up=0, down=1) in stats
    assert "зейнетақы" in stats


async def flushed(pool: SessionPool) -> bool:
    return len(await rows(pool, UnansweredQuestion)) == 1 and len(await rows(pool, Feedback)) == 1


async def test_last_seen_is_written_behind_but_a_blocked_user_is_unblocked_at_once(
    behind_dp: Dispatcher, bot: Bot, pool: SessionPool, cipher: FieldCipher, clock: FakeClock,
    later: WriteBehind, timer: ManualTimer,
) -> None:
    quiet = await returning_user(pool, cipher, clock, 3101, blocked=False)
    blocked = await returning_user(pool, cipher, clock, 3102, blocked=True)
    await behind_dp.feed_update(bot, UpdateFactory(3101, "ru").message("/help"))
    await behind_dp.feed_update(bot, UpdateFactory(3102, "ru").message("/help"))
    back = await stored_user(pool, cipher, blocked.id)
    assert back is not None and back.blocked_at is None and back.last_seen_at == clock.now
    before = await stored_user(pool, cipher, quiet.id)
    assert before is not None and before.last_seen_at == clock.now - timedelta(days=1)

    await timer.advance(0.5)

    async def seen() -> bool:
        user = await stored_user(pool, cipher, quiet.id)
        return user is not None and user.last_seen_at == clock.now

    await eventually(seen)


async def test_forget_drops_the_users_queued_last_seen(
    behind_dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock, later: WriteBehind,
) -> None:
    user = await returning_user(pool, cipher, clock, 3103, blocked=False)
    tg = UpdateFactory(3103, "ru")
    await behind_dp.feed_update(bot, tg.message("/forget"))
    assert later.queued(("seen", user.id))
    await behind_dp.feed_update(bot, tg.callback(ForgetCallback(confirm=True).pack()))
    assert session.last_text() == translator.get("ru", "forget-done")
    assert not later.queued(("seen", user.id)) and later.pending == 0
    assert await stored_user(pool, cipher, user.id) is None


async def test_a_returning_users_unanswered_question_and_vote_write_nothing_in_the_update(
    behind_dp: Dispatcher, bot: Bot, session: RecordingSession, pool: SessionPool,
    cipher: FieldCipher, clock: FakeClock, later: WriteBehind,
) -> None:
    """The point of it all: no write transaction (SQLite's write lock, a commit) for them."""
    await returning_user(pool, cipher, clock, 3104, blocked=False)
    tg = UpdateFactory(3104, "ru")
    engine = pool.kw["bind"].sync_engine
    writes: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SELECT", "PRAGMA")):
            writes.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", record)
    try:
        await behind_dp.feed_update(bot, tg.message(OUT_OF_SCOPE))
        await behind_dp.feed_update(bot, tg.message("как отозвать эцп"))
        markup = session.sent()[-1].reply_markup
        assert isinstance(markup, InlineKeyboardMarkup)
        up = str(markup.inline_keyboard[0][0].callback_data)
        await behind_dp.feed_update(bot, tg.callback(up))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert writes == [] and later.pending == 3  # last seen, the question, the vote
