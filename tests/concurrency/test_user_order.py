"""Many updates of one user at once through the real Dispatcher: handled one by one, in order."""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import datetime

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import SendMessage
from aiogram.types import Message, Update

from bot.concurrency import CommitBeforeSend, UserLocks, user_key
from handlers.keys.ui import AddCb
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.keys_flow.flow import keys_of
from tests.support.telegram import BOT_USER, RecordingSession, UpdateFactory

_msg_ids = itertools.count(900_000)


def prompt_message(who: UpdateFactory) -> Message:
    """The bot message that carries a button; a double tap sends two callbacks of one message."""
    return Message(message_id=next(_msg_ids), date=datetime.now(), chat=who.chat,
                   from_user=BOT_USER, text="…")


def dialog_updates(who: UpdateFactory, double_tap: bool) -> list[Update]:
    """A whole /addkey dialog as a person who taps at once (and twice) would send it."""
    steps: list[Update] = [who.message("/start")]
    steps.append(who.callback("consent:1"))
    steps.append(who.message("/addkey"))
    buttons = [AddCb(action="kind", value="file"), AddCb(action="holder", value="individual"),
               AddCb(action="purpose", value="both"), AddCb(action="today"),
               AddCb(action="expiry_ok")]
    for cb in buttons:
        msg = prompt_message(who)
        steps += [who.callback(cb.pack(), msg)] * (2 if double_tap else 1)
    steps.append(who.message("флешка в сейфе"))
    steps.append(who.callback(AddCb(action="label_ok").pack(), prompt_message(who)))
    save = prompt_message(who)
    steps += [who.callback(AddCb(action="save").pack(), save)] * (3 if double_tap else 1)
    return steps


async def feed_all_at_once(dp: Dispatcher, bot: Bot, updates: list[Update]) -> None:
    """Every update starts before the previous one is answered, as under polling."""
    await asyncio.gather(*(dp.feed_update(bot, u) for u in updates))


@pytest.mark.parametrize("users", [1, 50])
async def test_rapid_taps_complete_every_dialog_without_errors(
    dp: Dispatcher, bot: Bot, session: RecordingSession, pool: SessionPool,
    cipher: FieldCipher, users: int, caplog: pytest.LogCaptureFixture,
) -> None:
    consent = await _consent_data(dp, bot, session)
    people = [UpdateFactory(50_000 + i, "ru" if i % 2 else "kk") for i in range(users)]
    updates: list[Update] = []
    for who in people:
        flow = dialog_updates(who, double_tap=True)
        flow[1] = who.callback(consent)
        updates += flow
    with caplog.at_level(logging.ERROR):
        await feed_all_at_once(dp, bot, updates)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    for who in people:
        keys = await keys_of(pool, cipher, who.user.id)
        assert len(keys) == 1, f"user {who.user.id} has {len(keys)} keys"


async def test_updates_of_one_user_run_in_arrival_order(bot: Bot) -> None:
    locks = UserLocks()
    who = UpdateFactory(61_000)
    order: list[int] = []

    async def handle(i: int) -> None:
        async with locks.lock(user_key(bot, who.user)):
            await asyncio.sleep(0.001 * (5 - i % 5))  # later updates would finish first
            order.append(i)

    await asyncio.gather(*(handle(i) for i in range(20)))
    assert order == list(range(20))
    assert locks.held() == 0  # no lock left behind for an idle user


async def test_other_users_are_not_blocked_by_a_busy_one(bot: Bot) -> None:
    locks = UserLocks()
    busy, other = UpdateFactory(62_000), UpdateFactory(62_001)
    release = asyncio.Event()

    async def slow() -> None:
        async with locks.lock(user_key(bot, busy.user)):
            await release.wait()

    task = asyncio.create_task(slow())
    await asyncio.sleep(0)
    async with locks.lock(user_key(bot, other.user)):
        pass  # does not wait for the busy user
    release.set()
    await task


async def test_reply_goes_out_only_after_the_state_is_committed(
    dp: Dispatcher, bot: Bot, session: RecordingSession, pool: SessionPool,
    cipher: FieldCipher,
) -> None:
    """When Telegram receives a prompt, the dialog step it belongs to is already stored."""
    from sqlalchemy import text

    seen: list[int] = []

    async def check_stored(method: object) -> None:
        if isinstance(method, SendMessage):
            async with pool() as s:  # another connection sees only committed rows
                rows = await s.execute(text("SELECT count(*) FROM fsm_records"))
                seen.append(rows.scalar_one())

    original = session.make_request

    async def recording(bot_: Bot, method, timeout=None):  # type: ignore[no-untyped-def]
        await check_stored(method)
        return await original(bot_, method, timeout)

    session.make_request = recording  # type: ignore[method-assign]
    consent = await _consent_data(dp, bot, session)
    who = UpdateFactory(63_000)
    await dp.feed_update(bot, who.message("/start"))
    await dp.feed_update(bot, who.callback(consent))
    seen.clear()
    await dp.feed_update(bot, who.message("/addkey"))
    assert seen and seen[-1] == 1  # the "kind?" prompt left with its state stored
    assert any(isinstance(m, CommitBeforeSend) for m in bot.session.middleware)


async def _consent_data(dp: Dispatcher, bot: Bot, session: RecordingSession) -> str:
    """The consent button's callback data, read from the bot's real /start reply."""
    probe = UpdateFactory(69_999)
    await dp.feed_update(bot, probe.message("/start"))
    for request in reversed(session.sent(SendMessage)):
        markup = request.reply_markup
        if markup is not None:
            return str(markup.inline_keyboard[0][0].callback_data)
    raise AssertionError("no consent button")
