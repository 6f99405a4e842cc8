"""my_chat_member: blocking the bot stops every send at once; unblocking welcomes back."""

from __future__ import annotations

import itertools
import time

from aiogram import Bot, Dispatcher
from aiogram.types import (
    Chat,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberUpdated,
    Update,
    User,
)

from bot.i18n import Translator
from bot.reminders.engine import ReminderEngine
from storage.repositories import Repos
from tests.reminders_engine.conftest import World
from tests.support.telegram import BOT_USER, RecordingSession

_ids = itertools.count(950_000)


def membership(user_id: int, status: str, chat: Chat | None = None) -> Update:
    """Telegram's my_chat_member update when the user blocks ("kicked") or unblocks the bot."""
    person = User(id=user_id, is_bot=False, first_name="Әсел", language_code="kk")
    old, new = (
        (ChatMemberMember(user=BOT_USER), ChatMemberBanned(user=BOT_USER, until_date=0))
        if status == "kicked"
        else (ChatMemberBanned(user=BOT_USER, until_date=0), ChatMemberMember(user=BOT_USER))
    )
    event = ChatMemberUpdated(
        chat=chat or Chat(id=user_id, type="private", first_name="Әсел"),
        from_user=person, date=int(time.time()), old_chat_member=old, new_chat_member=new,
    )
    return Update(update_id=next(_ids), my_chat_member=event)


async def test_block_stops_reminders_at_once_and_unblock_welcomes_back(
    world: World, engine: ReminderEngine, dp: Dispatcher, bot: Bot, session: RecordingSession,
    translator: Translator,
) -> None:
    user = await world.user(8801, "kk")
    await world.key(user, world.today(3))
    await dp.feed_update(bot, membership(8801, "kicked"))
    assert session.requests == []  # nothing is said to someone who just blocked the bot
    async with world.pool() as s:
        marked = await Repos.build(s, world.cipher).users.get(user.id)
    assert marked is not None and marked.blocked_at is not None
    report = await engine.scan()
    assert session.sent() == [] and report["sent"] == 0  # not even tried: no 403 needed

    await dp.feed_update(bot, membership(8801, "member"))
    assert session.texts() == [translator.get("kk", "membership-welcome-back")]
    async with world.pool() as s:
        back = await Repos.build(s, world.cipher).users.get(user.id)
    assert back is not None and back.blocked_at is None
    session.clear()
    await engine.scan()
    assert [int(m.chat_id) for m in session.sent()] == [8801]  # the due reminder comes now


async def test_strangers_and_groups_get_nothing(
    dp: Dispatcher, bot: Bot, session: RecordingSession
) -> None:
    await dp.feed_update(bot, membership(8802, "kicked"))
    await dp.feed_update(bot, membership(8802, "member"))  # never agreed: /start greets them
    group = Chat(id=-100880, type="supergroup", title="Топ")
    await dp.feed_update(bot, membership(8803, "member", chat=group))
    assert session.requests == []
