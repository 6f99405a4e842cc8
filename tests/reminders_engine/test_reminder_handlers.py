"""/reminders settings and the buttons under reminders, through the real dispatcher."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher

from bot.i18n import Translator
from bot.reminders.engine import ReminderEngine
from bot.reminders.texts import fmt_date
from storage.repositories import Repos
from tests.conftest import FakeClock
from tests.keys_flow.flow import Chat
from tests.support.telegram import RecordingSession, UpdateFactory

from .conftest import World  # noqa: TID252


async def test_settings_offsets_replan_and_bad_input(
    world: World, dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
) -> None:
    user = await world.user(1001)
    await world.key(user, world.today(40))
    ru = UpdateFactory(user_id=1001)
    t = translator.for_lang("ru")
    await dp.feed_update(bot, ru.message("/reminders"))
    assert "30, 14, 7, 3, 1, 0, -1" in session.last_text()
    await dp.feed_update(bot, ru.callback("remset:offsets"))
    assert session.last_text() == t("reminders-ask-offsets")
    await dp.feed_update(bot, ru.message("10, 10"))
    assert session.last_text() == t("reminders-err-duplicate")
    await dp.feed_update(bot, ru.message("10, 2"))
    assert session.last_text().startswith(t("reminders-saved"))
    stages = sorted(s for k, s, _, st in await world.statuses(user) if k == "expiry")
    assert stages == [2, 10]
    await dp.feed_update(bot, ru.callback("remset:window"))
    await dp.feed_update(bot, ru.message("25-3"))
    assert session.last_text() == t("reminders-err-out-of-range")
    await dp.feed_update(bot, ru.message("9:30-18"))
    await dp.feed_update(bot, ru.callback("remset:mode-off"))
    async with world.pool() as s:
        fresh = await Repos.build(s, world.cipher).users.get(user.id)
    assert fresh is not None and (fresh.window_start, fresh.activity_mode) == (570, "off")


async def test_snooze_stop_and_renew_buttons(
    world: World, dp: Dispatcher, bot: Bot, session: RecordingSession, clock: FakeClock,
    engine: ReminderEngine, translator: Translator,
) -> None:
    user = await world.user(1001)
    key = await world.key(user, world.today(3), "K")
    ru = UpdateFactory(user_id=1001)
    t = translator.for_lang("ru")
    await engine.scan()
    await dp.feed_update(bot, ru.callback(f"rem:snz:{key.id}"))
    assert session.last_text() == t("reminders-snoozed")
    clock.advance(days=1)
    session.clear()
    await engine.scan()
    assert len(session.sent()) == 1  # the snooze, no separate message for the same key
    # "Renewed" under a reminder opens the card's renewal prompt, with the same checks.
    await dp.feed_update(bot, ru.callback(f"rem:new:{key.id}"))
    assert session.last_text().startswith(t("keys-renew-ask", label="K", date="03.03.2027"))
    await dp.feed_update(bot, ru.message("31.02.2027"))
    assert session.last_text() == t("keys-date-invalid")
    await dp.feed_update(bot, ru.message("01.03.2027"))
    assert session.last_text().startswith(t("keys-renewed", date="01.03.2027"))
    assert {s for k, _, _, s in await world.statuses(user) if k == "snooze"} <= {"sent"}
    await dp.feed_update(bot, ru.callback(f"rem:stop:{key.id}"))
    assert session.last_text() == t("reminders-stopped", label="K")
    assert "pending" not in {s for *_, s in await world.statuses(user)}
    stranger = await world.user(1002)
    await world.key(stranger, world.today(50))
    await dp.feed_update(bot, UpdateFactory(user_id=1002).callback(f"rem:stop:{key.id}"))
    assert session.last_text() == t("reminders-key-gone")  # not someone else's key


async def test_checkup_and_help_buttons(
    world: World, dp: Dispatcher, bot: Bot, session: RecordingSession, clock: FakeClock,
    engine: ReminderEngine, translator: Translator,
) -> None:
    user = await world.user(1001, activity_mode="monthly")
    assert await engine.ensure_checkups() == 1
    clock.advance(days=30)
    await engine.scan()
    t = translator.for_lang("ru")
    assert session.last_text() == t("reminders-checkup")
    buttons: list[Any] = [b for r in session.sent()[-1].reply_markup.inline_keyboard for b in r]
    await dp.feed_update(bot, UpdateFactory(user_id=1001).callback(buttons[1].callback_data))
    assert "pki.gov.kz" in session.last_text()
    await dp.feed_update(bot, UpdateFactory(user_id=1001).callback(buttons[0].callback_data))
    expected = fmt_date((clock.now + timedelta(days=30)).date())
    assert session.last_text() == t("reminders-checkup-thanks", date=expected)
    kinds = [(k, st) for k, _, _, st in await world.statuses(user)]
    assert kinds.count(("checkup", "pending")) == 1 and ("checkup", "sent") in kinds


async def test_weekly_tip_and_broadcast_opt_out_toggles(
    world: World, dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
) -> None:
    user = await world.user(1001)
    ru = UpdateFactory(user_id=1001)
    t = translator.for_lang("ru")
    await dp.feed_update(bot, ru.message("/reminders"))
    labels = [b.text for row in session.sent()[-1].reply_markup.inline_keyboard for b in row]
    assert t("btn-reminders-weekly_tips-on") in labels
    assert t("btn-reminders-broadcasts_opt_in-on") in labels
    await dp.feed_update(bot, ru.callback("remset:toggle-weekly_tips"))
    await dp.feed_update(bot, ru.callback("remset:toggle-broadcasts_opt_in"))
    labels = [b.text for row in session.sent()[-1].reply_markup.inline_keyboard for b in row]
    assert t("btn-reminders-weekly_tips-off") in labels
    assert t("btn-reminders-broadcasts_opt_in-off") in labels
    async with world.pool() as s:
        fresh = await Repos.build(s, world.cipher).users.get(user.id)
    assert fresh is not None and not fresh.weekly_tips and not fresh.broadcasts_opt_in
    await dp.feed_update(bot, ru.callback("remset:toggle-weekly_tips"))
    async with world.pool() as s:
        fresh = await Repos.build(s, world.cipher).users.get(user.id)
    assert fresh is not None and fresh.weekly_tips


async def test_eight_keys_due_at_once_keep_a_short_keyboard(
    world: World, dp: Dispatcher, bot: Bot, session: RecordingSession,
    engine: ReminderEngine, translator: Translator,
) -> None:
    user = await world.user(1003)
    for n in range(8):
        await world.key(user, world.today(3), f"K{n}")
    t = translator.for_lang("ru")
    await engine.scan()
    [message] = session.sent()
    rows = message.reply_markup.inline_keyboard
    assert 1 <= len(rows) <= 4
    buttons = [b for row in rows for b in row]
    assert [b.text for b in buttons] == [t("btn-menu-mykeys")]
    session.clear()
    await dp.feed_update(bot, UpdateFactory(user_id=1003).callback(buttons[0].callback_data))
    listing = session.last_text()
    assert "K0" in listing and "K7" in listing


async def test_two_keys_due_get_one_row_each(
    world: World, session: RecordingSession, engine: ReminderEngine,
) -> None:
    user = await world.user(1004)
    keys = [await world.key(user, world.today(3), f"K{n}") for n in range(2)]
    await engine.scan()
    [message] = session.sent()
    rows = message.reply_markup.inline_keyboard
    assert len(rows) == 2
    for row, key in zip(rows, keys, strict=True):
        assert {b.callback_data.rsplit(":", 1)[1] for b in row} == {str(key.id)}


async def test_stage_due_today_is_covered_by_the_save_confirmation(
    world: World, dp: Dispatcher, bot: Bot, session: RecordingSession, clock: FakeClock,
    engine: ReminderEngine, translator: Translator,
) -> None:
    chat = Chat(dp, bot, session, UpdateFactory(1005, "ru"), translator, "ru")
    await chat.consent()
    await chat.send("/addkey")
    await chat.press("btn-keys-kind-file")
    await chat.press("btn-keys-holder-individual")
    await chat.press("btn-keys-purpose-auth")
    await chat.press("btn-keys-today")
    expires = world.today(3)
    await chat.send(fmt_date(expires))
    await chat.press("btn-keys-skip")
    await chat.send("Налоги")
    saved = await chat.press("btn-keys-save")
    assert chat.t("keys-status-expiring", days=3) in saved
    session.clear()
    await engine.scan()  # the same moment: the 3-day stage was said by the confirmation
    assert session.sent() == []
    clock.advance(days=2)  # one day left: the next stage comes as usual
    await engine.scan()
    [reminder] = session.sent()
    # (bundled with the nudges a new key gets a couple of days after it is added)
    assert chat.t("reminders-expiry-soon", days=1, label="Налоги",
                  date=fmt_date(expires)) in reminder.text
