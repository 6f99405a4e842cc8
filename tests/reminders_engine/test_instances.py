"""Several instances over one database (SQLite and a real PostgreSQL): each reminder is sent
exactly once, a dead instance's claims are retaken after the lease, a graceful stop hands its
claims back at once, and the scan feeds the metrics."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage

from bot.delivery import LocalPacer, ObservedPacer
from bot.i18n import Translator
from bot.lifecycle import Lifecycle
from bot.metrics import Metrics, install_api_metrics
from bot.reminders.engine import ReminderEngine
from storage.database import SessionPool, create_engine, create_session_pool
from storage.encryption import FieldCipher
from storage.reminders import ReminderRepo
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession, make_bot

from .conftest import FakeSleep, World  # noqa: TID252

TIMEOUT = timedelta(minutes=10)


@pytest.fixture
def pool(backend_pool: SessionPool) -> SessionPool:
    """The World helpers and the first instance use the parametrised backend."""
    return backend_pool


@pytest.fixture
async def other_pool(backend_url: str) -> AsyncIterator[SessionPool]:
    """A second instance: its own engine and connections to the same database."""
    engine = create_engine(backend_url)
    yield create_session_pool(engine)
    await engine.dispose()


def instance(
    pool: SessionPool, cipher: FieldCipher, translator: Translator, clock: FakeClock,
    **kw: object,
) -> tuple[ReminderEngine, RecordingSession]:
    bot = make_bot()
    sleep = FakeSleep()
    pacer = LocalPacer(10_000.0, 0.0, clock=sleep.clock, sleep=sleep)
    engine = ReminderEngine(bot, pool, cipher, translator, clock, pacer, timeout=TIMEOUT,
                            **kw)  # type: ignore[arg-type]
    assert isinstance(bot.session, RecordingSession)
    return engine, bot.session


async def due_users(world: World, n: int, first: int = 7000) -> list[int]:
    for tg in range(first, first + n):
        user = await world.user(tg)
        await world.key(user, world.today(3))  # the 3-days-left reminder is due now
    return list(range(first, first + n))


def chats(*sessions: RecordingSession) -> Counter[int]:
    return Counter(int(m.chat_id) for s in sessions for m in s.sent())


async def test_two_instances_send_every_reminder_exactly_once(
    world: World, other_pool: SessionPool, cipher: FieldCipher, translator: Translator,
    clock: FakeClock,
) -> None:
    users = await due_users(world, 40)
    # Small claims, so the two scans interleave and race for the same rows.
    a, sa = instance(world.pool, cipher, translator, clock, batch_users=3, page_size=7)
    b, sb = instance(other_pool, cipher, translator, clock, batch_users=3, page_size=7)
    ra, rb = await asyncio.gather(a.scan(), b.scan())
    got = chats(sa, sb)
    assert sorted(got) == users and set(got.values()) == {1}
    assert ra["sent"] + rb["sent"] == 40
    await asyncio.gather(a.scan(), b.scan())  # nothing left for a second round
    assert sum(chats(sa, sb).values()) == 40


async def test_a_dead_instance_claims_are_retaken_after_the_lease(
    world: World, other_pool: SessionPool, cipher: FieldCipher, translator: Translator,
    clock: FakeClock,
) -> None:
    users = await due_users(world, 5)
    dead, sd = instance(world.pool, cipher, translator, clock)
    # The dead instance claimed everything, then its process vanished before sending.
    async for _claim in dead.claimed_batches(clock()):
        break
    assert sd.sent() == []
    live, sl = instance(other_pool, cipher, translator, clock)
    await live.scan()
    assert sl.sent() == []  # a claim inside its lease belongs to its owner
    clock.advance(minutes=11)
    report = await live.scan()
    assert report["recovered"] == 5 and sorted(chats(sl)) == users
    assert set(chats(sl).values()) == {1}


class HeldPacer(LocalPacer):
    """Lets the first send through, then holds every next one until released."""

    def __init__(self) -> None:
        super().__init__(10_000.0, 0.0)
        self.granted = 0
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def acquire(self, chat_id: int, *, paid: bool = False) -> None:
        if self.granted >= 1:
            self.waiting.set()
            await self.gate.wait()
        self.granted += 1


async def test_graceful_stop_hands_claims_back_at_once(
    world: World, other_pool: SessionPool, cipher: FieldCipher, translator: Translator,
    clock: FakeClock, bot: Bot, session: RecordingSession,
) -> None:
    users = await due_users(world, 6)
    stopping = asyncio.Event()
    a = ReminderEngine(bot, world.pool, cipher, translator, clock, HeldPacer(), timeout=TIMEOUT,
                       stopping=stopping.is_set)
    pacer = a.sender.pacer
    assert isinstance(pacer, HeldPacer)
    scan = asyncio.create_task(a.scan())
    await pacer.waiting.wait()  # one sent, the second one in the pacer
    stopping.set()
    scan.cancel()  # the scheduler cancels a job that outlives the shutdown budget
    with pytest.raises(asyncio.CancelledError):
        await scan
    assert len(a.active) == 1
    await a.release_claims()
    assert a.active == {}
    # No lease to wait for: another instance sends the other five right away.
    b, sb = instance(other_pool, cipher, translator, clock)
    await b.scan()
    assert sorted(chats(session, sb)) == users and set(chats(session, sb).values()) == {1}


async def test_stopping_scan_releases_the_rest_without_sending(
    world: World, cipher: FieldCipher, translator: Translator, clock: FakeClock,
) -> None:
    await due_users(world, 4)
    flag = {"stop": False}
    a, sa = instance(world.pool, cipher, translator, clock, stopping=lambda: flag["stop"])
    sa.failures.append(lambda m: flag.update(stop=True))  # stop right after the first send
    report = await a.scan()
    assert report["sent"] == 1 and report["stopped"] == 1 and len(sa.sent()) == 1
    async with world.pool() as s:
        due = await ReminderRepo(s).due_page(clock(), None, 100)
    assert len(due) == 3  # pending again, not claimed: ready for any instance


async def test_scan_feeds_the_metrics(
    world: World, cipher: FieldCipher, translator: Translator, clock: FakeClock,
) -> None:
    await due_users(world, 3)
    metrics = Metrics()
    bot = make_bot()
    assert isinstance(bot.session, RecordingSession)
    install_api_metrics(bot, metrics, Lifecycle())
    blocked = TelegramForbiddenError(SendMessage(chat_id=7001, text="x"), "bot was blocked")
    bot.session.failures.append(
        lambda m: blocked if isinstance(m, SendMessage) and m.chat_id == 7001 else None
    )
    sleep = FakeSleep()
    pacer = ObservedPacer(LocalPacer(10_000.0, 0.0, clock=sleep.clock, sleep=sleep),
                          metrics.pacer_wait_seconds.observe)
    engine = ReminderEngine(bot, world.pool, cipher, translator, clock, pacer,
                            timeout=TIMEOUT, metrics=metrics)
    await engine.scan()
    text = metrics.render().decode()
    assert "kilt_reminders_due 3.0" in text
    assert "kilt_reminders_sent_total 2.0" in text
    assert 'kilt_reminders_failed_total{reason="blocked"} 1.0' in text
    assert 'kilt_telegram_errors_total{code="403"} 1.0' in text  # counted once, by the session
    assert "kilt_pacer_wait_seconds_count 3.0" in text
