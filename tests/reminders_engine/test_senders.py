"""A claim's users sent several at a time (`senders`): the same outcomes as one at a time."""

from __future__ import annotations

import asyncio
from collections import Counter

from aiogram.exceptions import TelegramServerError
from aiogram.methods import SendMessage

from bot.delivery import LocalPacer
from bot.i18n import Translator
from bot.reminders.engine import ReminderEngine
from storage.encryption import FieldCipher
from storage.reminders import ReminderRepo
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession, make_bot

from .conftest import FakeSleep, World  # noqa: TID252
from .test_instances import TIMEOUT, chats, due_users  # noqa: TID252


class MeetingPacer(LocalPacer):
    """Holds the first `meet` callers until all of them wait here at once."""

    def __init__(self, meet: int) -> None:
        sleep = FakeSleep()
        super().__init__(10_000.0, 0.0, clock=sleep.clock, sleep=sleep)
        self.meet, self.arrived, self.met = meet, 0, asyncio.Event()

    async def acquire(self, chat_id: int, *, paid: bool = False) -> None:
        self.arrived += 1
        if self.arrived == self.meet:
            self.met.set()
        await self.met.wait()


async def test_four_senders_have_four_messages_in_flight_and_send_each_once(
    world: World, cipher: FieldCipher, translator: Translator, clock: FakeClock,
) -> None:
    users = await due_users(world, 10)
    bot = make_bot()
    assert isinstance(bot.session, RecordingSession)
    engine = ReminderEngine(bot, world.pool, cipher, translator, clock, MeetingPacer(4),
                            timeout=TIMEOUT, senders=4)
    # One sender at a time would wait here for ever: the first caller never meets three more.
    report = await asyncio.wait_for(engine.scan(), 30)
    assert report["sent"] == 10
    assert chats(bot.session) == Counter({u: 1 for u in users})


async def test_a_retry_stops_new_sends_and_hands_back_the_rest(
    world: World, cipher: FieldCipher, translator: Translator, clock: FakeClock,
) -> None:
    users = await due_users(world, 12)
    bot = make_bot()
    assert isinstance(bot.session, RecordingSession)
    sleep = FakeSleep()
    engine = ReminderEngine(bot, world.pool, cipher, translator, clock,
                            LocalPacer(10_000.0, 0.0, clock=sleep.clock, sleep=sleep),
                            timeout=TIMEOUT, senders=4)
    failed = [False]

    def bad_gateway_once(method: object) -> Exception | None:
        if isinstance(method, SendMessage) and not failed[0]:
            failed[0] = True
            return TelegramServerError(method, "Bad Gateway")  # may have it: "retry"
        return None

    bot.session.failures.append(bad_gateway_once)
    first = await engine.scan()
    assert first["retry"] == 1 and first["sent"] < 11  # no new user after the retry
    async with world.pool() as session:  # the retried user and the unstarted ones: pending
        due = await ReminderRepo(session).due_page(clock(), None, 100)
    assert len(due) == 12 - first["sent"]
    second = await engine.scan()
    assert first["sent"] + second["sent"] == 12 and engine.active == {}
    assert sorted(chats(bot.session)) == users
