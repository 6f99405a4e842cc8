"""Two instances delivering one broadcast over one database (SQLite and a real PostgreSQL):
every recipient once, a dead instance's claim settled after the lease, a graceful stop that
leaves nothing claimed, and the delivery metrics."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from aiogram import Bot
from aiogram.methods import SendMessage

from bot.broadcast.engine import BroadcastEngine
from bot.config import Settings
from bot.delivery import LocalPacer
from bot.i18n import Translator
from bot.metrics import Metrics
from storage.database import SessionPool, create_engine, create_session_pool
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.broadcast_engine.conftest import MakeUsers
from tests.broadcast_engine.helpers import VirtualTime, new_broadcast
from tests.conftest import ADMIN_ID, FakeClock
from tests.support.telegram import RecordingSession, make_bot


@pytest.fixture
def pool(backend_pool: SessionPool) -> SessionPool:
    return backend_pool


@pytest.fixture
async def other_pool(backend_url: str) -> AsyncIterator[SessionPool]:
    engine = create_engine(backend_url)
    yield create_session_pool(engine)
    await engine.dispose()


def instance(
    pool: SessionPool, cipher: FieldCipher, translator: Translator, settings: Settings,
    clock: FakeClock, pacer: LocalPacer | None = None, **kw: object,
) -> tuple[BroadcastEngine, RecordingSession]:
    bot = make_bot()
    vt = VirtualTime()
    pacer = pacer or LocalPacer(global_rps=1000, per_chat_interval=0, clock=vt, sleep=vt.sleep)
    engine = BroadcastEngine(bot, pool, cipher, translator, settings, clock, pacer,
                             progress_every=3600, **kw)  # type: ignore[arg-type]
    assert isinstance(bot.session, RecordingSession)
    return engine, bot.session


def user_sends(*sessions: RecordingSession) -> Counter[int]:
    return Counter(int(m.chat_id) for s in sessions for m in s.sent(SendMessage)
                   if m.chat_id != ADMIN_ID)


async def start(pool: SessionPool, cipher: FieldCipher, clock: FakeClock) -> int:
    """A broadcast already running, as both instances find it at their next resume."""
    broadcast_id = await new_broadcast(pool, cipher, clock)
    async with pool() as session:
        await Repos.build(session, cipher).broadcasts.start(broadcast_id, clock.now,
                                                            clock.now.date())
        await session.commit()
    return broadcast_id


async def statuses(pool: SessionPool, cipher: FieldCipher, broadcast_id: int) -> dict[str, int]:
    async with pool() as session:
        return (await Repos.build(session, cipher).broadcasts.counts(broadcast_id)).by_status


async def test_two_instances_deliver_each_recipient_once(
    make_users: MakeUsers, pool: SessionPool, other_pool: SessionPool, cipher: FieldCipher,
    translator: Translator, settings: Settings, clock: FakeClock,
) -> None:
    await make_users(list(range(100, 160)))
    broadcast_id = await start(pool, cipher, clock)
    metrics = Metrics()
    a, sa = instance(pool, cipher, translator, settings, clock, metrics=metrics)
    b, sb = instance(other_pool, cipher, translator, settings, clock)
    await asyncio.gather(a.run(broadcast_id), b.run(broadcast_id))
    got = user_sends(sa, sb)
    assert sorted(got) == list(range(100, 160)) and set(got.values()) == {1}
    assert await statuses(pool, cipher, broadcast_id) == {"sent": 60}
    sent_by_a = len([m for m in sa.sent(SendMessage) if m.chat_id != ADMIN_ID])
    text = metrics.render().decode()
    assert f'kilt_broadcast_recipients_total{{outcome="sent"}} {float(sent_by_a)}' in text
    assert "\nkilt_broadcast_pending " in text  # what the other instance still held, or 0


class CountingPacer(LocalPacer):
    """Counts the send slots taken for recipients (not the admin's progress messages)."""

    def __init__(self) -> None:
        vt = VirtualTime()
        super().__init__(global_rps=1000, per_chat_interval=0, clock=vt, sleep=vt.sleep)
        self.slots = 0

    async def acquire(self, chat_id: int, *, paid: bool = False) -> None:
        await super().acquire(chat_id, paid=paid)
        if chat_id != ADMIN_ID:
            self.slots += 1


async def test_instances_do_not_spend_slots_on_each_others_rows(
    make_users: MakeUsers, pool: SessionPool, other_pool: SessionPool, cipher: FieldCipher,
    translator: Translator, settings: Settings, clock: FakeClock,
) -> None:
    """Regression: every instance paced every row and only the claim told them apart, so two
    instances threw away every other send slot (three sent at a third of SEND_RPS). A row is
    now reserved before the pacer and the other instance skips it."""
    await make_users(list(range(400, 440)))
    broadcast_id = await start(pool, cipher, clock)
    pa, pb = CountingPacer(), CountingPacer()
    a, sa = instance(pool, cipher, translator, settings, clock, pacer=pa)
    b, sb = instance(other_pool, cipher, translator, settings, clock, pacer=pb)
    await asyncio.gather(a.run(broadcast_id), b.run(broadcast_id))
    got = user_sends(sa, sb)
    assert sorted(got) == list(range(400, 440)) and set(got.values()) == {1}
    assert pa.slots + pb.slots == 40  # one slot per message, none wasted
    assert pa.slots and pb.slots  # and both instances sent


async def test_a_dead_instance_claim_is_settled_after_the_lease(
    make_users: MakeUsers, pool: SessionPool, other_pool: SessionPool, cipher: FieldCipher,
    translator: Translator, settings: Settings, clock: FakeClock,
) -> None:
    await make_users([200, 201, 202])
    broadcast_id = await start(pool, cipher, clock)
    async with pool() as session:
        repos = Repos.build(session, cipher)
        [first, *_] = await repos.broadcasts.next_recipients(broadcast_id, 0, 10)
        assert await repos.broadcasts.claim(first.delivery_id, clock.now)  # then it died
        await session.commit()
    live, sl = instance(other_pool, cipher, translator, settings, clock,
                        stale_after=timedelta(minutes=2))
    counts = await live.run(broadcast_id)
    assert counts is not None and counts.by_status == {"claimed": 1, "sent": 2}
    clock.advance(minutes=3)
    counts = await live.run(broadcast_id)
    # Maybe sent before the crash: never sent twice (bot/broadcast/engine.py), settled unknown.
    assert counts is not None and counts.by_status == {"unknown": 1, "sent": 2}
    assert sorted(user_sends(sl)) == [201, 202]


class HeldPacer(LocalPacer):
    """Grants `free` slots, then holds every caller (a long 429 pause, say)."""

    def __init__(self, free: int) -> None:
        super().__init__(10_000.0, 0.0)
        self.free = free
        self.held = asyncio.Event()

    async def acquire(self, chat_id: int, *, paid: bool = False) -> None:
        if self.free <= 0:
            self.held.set()
            await asyncio.Event().wait()
        self.free -= 1


async def test_graceful_stop_leaves_nothing_claimed(
    make_users: MakeUsers, pool: SessionPool, other_pool: SessionPool, cipher: FieldCipher,
    translator: Translator, settings: Settings, clock: FakeClock, bot: Bot,
) -> None:
    await make_users(list(range(300, 320)))
    broadcast_id = await start(pool, cipher, clock)
    pacer = HeldPacer(free=5)
    a, sa = instance(pool, cipher, translator, settings, clock, pacer=pacer)
    a.start(broadcast_id)
    await pacer.held.wait()
    await a.stop(grace=0.05)
    left = await statuses(pool, cipher, broadcast_id)
    # Five slots, shared with the admin's progress messages. Nothing stays claimed, so the
    # other instance has no lease to wait for.
    assert set(left) == {"sent", "pending"} and left["sent"] + left["pending"] == 20
    b, sb = instance(other_pool, cipher, translator, settings, clock)
    await b.run(broadcast_id)
    got = user_sends(sa, sb)
    assert sorted(got) == list(range(300, 320)) and set(got.values()) == {1}
    assert await statuses(pool, cipher, broadcast_id) == {"sent": 20}



class ClaimingPacer(LocalPacer):
    """Counts slots per chat; during the first one, "another instance" claims `others`."""

    def __init__(self, others: Callable[[], Awaitable[None]]) -> None:
        vt = VirtualTime()
        super().__init__(global_rps=1000, per_chat_interval=0, clock=vt, sleep=vt.sleep)
        self.others: Callable[[], Awaitable[None]] | None = others
        self.slots: Counter[int] = Counter()

    async def acquire(self, chat_id: int, *, paid: bool = False) -> None:
        if chat_id != ADMIN_ID:
            self.slots[chat_id] += 1
            if self.others is not None:
                others, self.others = self.others, None
                await others()
        await super().acquire(chat_id, paid=paid)


async def test_a_row_another_instance_took_costs_no_pacer_slot(
    make_users: MakeUsers, pool: SessionPool, other_pool: SessionPool, cipher: FieldCipher,
    translator: Translator, settings: Settings, clock: FakeClock,
) -> None:
    # Instances read the same pending rows. The loser of a row must not spend a pacer slot on
    # it (on the shared pacer, also the chat's 1 s interval): the claim comes first.
    await make_users([500, 501, 502])
    broadcast_id = await start(pool, cipher, clock)
    async with pool() as session:
        rows = await Repos.build(session, cipher).broadcasts.next_recipients(broadcast_id, 0, 9)

    async def other_instance_claims() -> None:
        async with other_pool() as session:
            for r in rows[1:]:
                assert await Repos.build(session, cipher).broadcasts.claim(r.delivery_id,
                                                                            clock.now)
            await session.commit()

    pacer = ClaimingPacer(other_instance_claims)
    a, sa = instance(pool, cipher, translator, settings, clock, pacer=pacer, workers=1)
    await a.run(broadcast_id)
    assert user_sends(sa) == Counter({500: 1})
    assert pacer.slots == Counter({500: 1})


async def test_batch_reservations_of_two_instances_are_disjoint(
    make_users: MakeUsers, pool: SessionPool, other_pool: SessionPool, cipher: FieldCipher,
    clock: FakeClock, backend_url: str,
) -> None:
    # Instances take batches of rows in one statement each; on PostgreSQL a batch another
    # transaction still holds is skipped (SKIP LOCKED), not waited for or fought over.
    await make_users(list(range(800, 812)))
    broadcast_id = await start(pool, cipher, clock)
    async with pool() as sa, other_pool() as sb:
        a, b = Repos.build(sa, cipher).broadcasts, Repos.build(sb, cipher).broadcasts
        first = await a.reserve(broadcast_id, clock.now, 5)
        if not backend_url.startswith("postgresql"):
            await sa.commit()  # SQLite has one writer at a time: B waits for A's commit
        second = await b.reserve(broadcast_id, clock.now, 5)
        await sa.commit()
        await sb.commit()
        third = await b.reserve(broadcast_id, clock.now, 5)
        await sb.commit()
    ids = [r.delivery_id for r in (*first, *second, *third)]
    assert (len(first), len(second), len(third)) == (5, 5, 2)
    assert len(set(ids)) == 12
    assert sorted(r.chat_id for r in (*first, *second, *third)) == list(range(800, 812))
    assert await statuses(pool, cipher, broadcast_id) == {"reserved": 12}


async def test_a_dead_instance_reservation_is_sent_by_another_after_the_lease(
    make_users: MakeUsers, pool: SessionPool, other_pool: SessionPool, cipher: FieldCipher,
    translator: Translator, settings: Settings, clock: FakeClock,
) -> None:
    await make_users([900, 901, 902, 903])
    broadcast_id = await start(pool, cipher, clock)
    async with pool() as session:  # reserved two rows, then died before claiming either
        assert len(await Repos.build(session, cipher).broadcasts.reserve(
            broadcast_id, clock.now, 2)) == 2
        await session.commit()
    live, sl = instance(other_pool, cipher, translator, settings, clock,
                        stale_after=timedelta(minutes=2))
    counts = await live.run(broadcast_id)
    assert counts is not None and counts.by_status == {"reserved": 2, "sent": 2}
    clock.advance(minutes=3)
    counts = await live.run(broadcast_id)
    # Nothing was sent for a reservation: after the lease it is pending again and sent once.
    assert counts is not None and counts.by_status == {"sent": 4}
    got = user_sends(sl)
    assert sorted(got) == [900, 901, 902, 903] and set(got.values()) == {1}


async def test_cancel_drops_reserved_rows_unsent(
    make_users: MakeUsers, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    settings: Settings, clock: FakeClock,
) -> None:
    await make_users([950, 951, 952])
    broadcast_id = await start(pool, cipher, clock)
    async with pool() as session:
        repos = Repos.build(session, cipher)
        held = await repos.broadcasts.reserve(broadcast_id, clock.now, 2)
        assert await repos.broadcasts.cancel(broadcast_id, clock.now)
        # A reservation is not a send: the instance holding it can no longer claim it.
        assert not await repos.broadcasts.claim(held[0].delivery_id, clock.now)
        assert await repos.broadcasts.reserve(broadcast_id, clock.now, 2) == []
        await session.commit()
    assert await statuses(pool, cipher, broadcast_id) == {"cancelled": 3}
