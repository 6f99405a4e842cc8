"""In a group the answer carries no 👍/👎 that other members could press."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import Chat, InlineKeyboardMarkup, Message, MessageEntity
from sqlalchemy import select

from bot.i18n import Translator
from bot.qa.service import build_service
from handlers.questions import FeedbackCallback, TopicCallback
from storage.database import SessionPool
from storage.models import Feedback
from tests.support.telegram import BOT_USER, RecordingSession, UpdateFactory

GROUP = Chat(id=-100778, type="supergroup", title="Есеп бөлімі")
MENTION = "@kilt_test_bot "


def buttons(request: Any) -> list[str]:
    markup = request.reply_markup
    if not isinstance(markup, InlineKeyboardMarkup):
        return []
    return [b.callback_data or "" for row in markup.inline_keyboard for b in row]


async def test_group_answer_and_topic_have_no_vote_buttons(
    dp: Dispatcher, bot: Bot, session: RecordingSession, kk_user: UpdateFactory
) -> None:
    qa = build_service()
    entity = MessageEntity(type="mention", offset=0, length=len(MENTION) - 1)
    question = MENTION + "ЭЦҚ құпиясөзін ұмытып қалдым"
    await dp.feed_update(bot, kk_user.message(question, chat=GROUP, entities=[entity]))
    answer = session.sent(SendMessage)[-1]
    assert answer.chat_id == GROUP.id and answer.text == qa.kb.text("forgot-password", "kk").answer
    data = buttons(answer)
    assert data and not any(d.startswith("fb:") for d in data)  # related topics stay
    in_group = Message(message_id=5, date=0, chat=GROUP, from_user=BOT_USER, text="…")
    await dp.feed_update(bot, kk_user.callback(TopicCallback(id="renew").pack(), in_group))
    topic = session.sent(SendMessage)[-1]
    assert topic.chat_id == GROUP.id and not any(d.startswith("fb:") for d in buttons(topic))


async def test_private_answer_keeps_votes_and_old_group_votes_are_not_counted(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    ru_user: UpdateFactory, pool: SessionPool,
) -> None:
    await dp.feed_update(bot, ru_user.message("Забыл пароль от ЭЦП, что делать?"))
    assert any(d.startswith("fb:") for d in buttons(session.sent(SendMessage)[-1]))
    old = Message(message_id=6, date=0, chat=GROUP, from_user=BOT_USER, text="…")
    vote = FeedbackCallback(topic="renew", up=False).pack()
    for member in (UpdateFactory(8601, "ru"), UpdateFactory(8602, "ru")):
        await dp.feed_update(bot, member.callback(vote, old))
    answers = session.sent(AnswerCallbackQuery)
    assert [a.text for a in answers] == [translator.get("ru", "stale-button")] * 2
    async with pool() as s:
        assert (await s.scalars(select(Feedback))).all() == []
