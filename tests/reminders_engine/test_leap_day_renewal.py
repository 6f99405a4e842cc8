"""Renewing on 29 February 2028 through both entry points: the /mykeys card and a reminder.

Both open the same renewal prompt; before, the reminder's own date check computed
`today.replace(year=today.year + 5)` and crashed on a leap day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from aiogram import Bot, Dispatcher

from bot.i18n import Translator
from bot.reminders.engine import ReminderEngine
from bot.reminders.hooks import on_key_saved
from storage.dto import KeyDTO, UserDTO
from storage.repositories import Repos
from tests.conftest import FakeClock
from tests.keys_flow.flow import Chat, add_key, keys_of
from tests.support.telegram import RecordingSession, UpdateFactory

from .conftest import World  # noqa: TID252

LEAP_DAY = datetime(2028, 2, 29, 6, 0, tzinfo=UTC)  # 11:00 in Almaty
TG_ID = 7001


async def leap_day_key(world: World, clock: FakeClock) -> tuple[UserDTO, KeyDTO]:
    """A file key expiring in three days, with its reminders planned, on 29 February."""
    clock.now = LEAP_DAY
    user = await world.user(TG_ID)
    key = await add_key(world.pool, world.cipher, TG_ID, clock.now, "Файл", date(2028, 3, 3))
    async with world.pool() as s:
        await on_key_saved(Repos.build(s, world.cipher), user, key, clock.now)
        await s.commit()
    return user, key


def chat_of(dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator) -> Chat:
    return Chat(dp, bot, session, UpdateFactory(TG_ID, "ru"), translator, "ru")


async def test_renew_on_29_february_from_the_card(
    world: World, clock: FakeClock, dp: Dispatcher, bot: Bot, session: RecordingSession,
    translator: Translator,
) -> None:
    await leap_day_key(world, clock)
    chat = chat_of(dp, bot, session, translator)
    await chat.send("/mykeys")
    await chat.press("1. Файл")
    # A file key lasts a year; a year after 29 February is 28 February.
    assert await chat.press("btn-keys-renew") == chat.t("keys-renew-ask", label="Файл",
                                                         date="28.02.2029")
    renewed = await chat.press(chat.t("btn-keys-expiry_ok", date="28.02.2029"))
    assert renewed.startswith(chat.t("keys-renewed", date="28.02.2029"))
    [key] = await keys_of(world.pool, world.cipher, TG_ID)
    assert (key.issued_on, key.expires_on) == (date(2028, 2, 29), date(2029, 2, 28))


async def test_renew_on_29_february_from_a_reminder(
    world: World, clock: FakeClock, engine: ReminderEngine, dp: Dispatcher, bot: Bot,
    session: RecordingSession, translator: Translator,
) -> None:
    user, key = await leap_day_key(world, clock)
    await engine.scan()
    [(reminder_id, reminder)] = list(session.screen().items())
    assert reminder.reply_markup is not None
    [renewed_button] = [b.callback_data for row in reminder.reply_markup.inline_keyboard
                        for b in row if b.callback_data == f"rem:new:{key.id}"]
    chat = chat_of(dp, bot, session, translator)
    await chat.press_data(renewed_button, reminder_id)
    # Five years is the most a typed date may reach: from 29 February, 28 February 2033.
    assert await chat.send("01.03.2033") == chat.t("keys-date-too-far")
    done = await chat.send("28.02.2033")
    assert done.startswith(chat.t("keys-renewed", date="28.02.2033"))
    [fresh] = await keys_of(world.pool, world.cipher, TG_ID)
    assert fresh.expires_on == date(2033, 2, 28) and len(fresh.renewals) == 1
    # Its reminders moved to the new date at once.
    async with world.pool() as s:
        pending = await Repos.build(s, world.cipher).reminders.pending_for_user(user.id)
    expiry_days = {due.date() for kind, _, _, due in pending if kind == "expiry"}
    assert expiry_days and min(expiry_days) > date(2032, 12, 1)
