"""Every offset end to end through the engine, windows, time zones, bundling, edits, deletes."""

from __future__ import annotations

from bot.i18n import Translator
from bot.reminders.engine import ReminderEngine
from bot.reminders.hooks import on_key_deleted, on_key_saved
from bot.reminders.texts import fmt_date
from storage.repositories import Repos
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession

from .conftest import World  # noqa: TID252


async def test_every_default_offset_arrives_once_on_its_day(
    world: World, engine: ReminderEngine, session: RecordingSession, clock: FakeClock,
    translator: Translator,
) -> None:
    user = await world.user(5001)
    expires = world.today(31)
    await world.key(user, expires, "Рабочий <AUTH>")
    t = translator.for_lang("ru")
    sent_on: dict[int, str] = {}
    for _ in range(36):  # day by day at 11:00 Almaty, a few scans each day
        clock.advance(days=1)
        for _ in range(3):
            await engine.scan()
        left = (expires - world.today()).days
        texts = [m.text for m in session.sent()]
        if texts:
            assert len(texts) == 1, (left, texts)
            sent_on[left] = texts[0]
        session.clear()
    assert sorted(sent_on, reverse=True) == [30, 14, 7, 3, 1, 0, -1]
    args = {"label": "Рабочий &lt;AUTH&gt;", "date": fmt_date(expires)}
    assert sent_on[30] == t("reminders-expiry-soon", days=30, **args)
    assert sent_on[1] == t("reminders-expiry-soon", days=1, **args)
    assert sent_on[0] == t("reminders-expiry-today", **args)
    assert sent_on[-1] == t("reminders-expiry-expired", **args)
    statuses = {s for *_, s in await world.statuses(user)}
    assert "claimed" not in statuses and "pending" in statuses  # only the whereabouts row left


async def test_buttons_under_an_expiry_reminder(
    world: World, engine: ReminderEngine, session: RecordingSession, clock: FakeClock,
    translator: Translator,
) -> None:
    user = await world.user(5002, lang="kk")
    key = await world.key(user, world.today(3))
    await engine.scan()
    [message] = session.sent()
    buttons = [b for row in message.reply_markup.inline_keyboard for b in row]
    t = translator.for_lang("kk")
    assert [b.text for b in buttons] == [
        t("btn-reminders-renewed"), t("btn-reminders-snooze"), t("btn-reminders-stop"),
        t("btn-reminders-how-renew"),
    ]
    assert buttons[0].callback_data == f"rem:new:{key.id}"


async def test_delivery_window_and_time_zone(
    world: World, engine: ReminderEngine, session: RecordingSession, clock: FakeClock,
) -> None:
    clock.now = clock.now.replace(hour=3)  # 08:00 in Almaty: before the 10:00 window
    almaty = await world.user(5003)
    # 18:00-20:00 in New York: far from Almaty's window, a different day part in UTC.
    ny = await world.user(5004, timezone="America/New_York", window_start=18 * 60,
                          window_end=20 * 60)
    for user in (almaty, ny):
        await world.key(user, world.today(1))
    await engine.scan()
    assert session.sent() == []
    clock.now = clock.now.replace(hour=5)  # 10:00 Almaty
    await engine.scan()
    assert [int(m.chat_id) for m in session.sent()] == [5003]
    clock.now = clock.now.replace(hour=23)  # 18:00 EST (UTC-5 in March before DST on 8th)
    await engine.scan()
    assert [int(m.chat_id) for m in session.sent()] == [5003, 5004]


async def test_one_bundled_message_for_several_due_reminders(
    world: World, engine: ReminderEngine, session: RecordingSession, clock: FakeClock,
    translator: Translator,
) -> None:
    user = await world.user(5005)
    await world.key(user, world.today(7), "A")
    await world.key(user, world.today(1), "B")
    clock.advance(days=1)  # nobody scanned yesterday: A's 7-day stage and B's 1-day stage wait
    await engine.scan()
    texts = session.texts()
    assert len(texts) == 1
    t = translator.for_lang("ru")
    assert texts[0].startswith(t("reminders-bundle-title", count=2))
    # Most urgent first: B (its last day) before A (6 days left).
    assert texts[0].index("«B»") < texts[0].index("«A»")
    await engine.scan()
    assert len(session.texts()) == 1


async def test_renew_and_delete_reschedule_at_once(
    world: World, engine: ReminderEngine, session: RecordingSession, clock: FakeClock,
) -> None:
    user = await world.user(5006)
    renewed = await world.key(user, world.today(3), "renewed")
    deleted = await world.key(user, world.today(3), "deleted")
    async with world.pool() as s:
        repos = Repos.build(s, world.cipher)
        await repos.keys.renew(user.id, renewed.id, world.today(365), clock.now)
        fresh = await repos.keys.get_owned(user.id, renewed.id)
        assert fresh is not None
        await on_key_saved(repos, user, fresh, clock.now)
        await on_key_deleted(repos, deleted.id)
        await repos.keys.delete(user.id, deleted.id)
        await s.commit()
    for _ in range(5):
        clock.advance(days=1)
        await engine.scan()
    assert session.sent() == []
    clock.advance(days=365 - 5 - 30)  # the renewed key's 30-day stage
    await engine.scan()
    assert len(session.sent()) == 1 and "«renewed»" in session.last_text()
