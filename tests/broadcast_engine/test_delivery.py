"""The delivery engine: audiences, exactly-once sends, 429 storms, 403/400, crash and resume."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import SendMessage, TelegramMethod

from bot.broadcast.engine import BroadcastEngine
from bot.i18n import Translator
from storage.broadcasts import Audience
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.broadcast_engine.conftest import MakeUsers
from tests.broadcast_engine.helpers import VirtualTime, new_broadcast
from tests.conftest import ADMIN_ID, FakeClock
from tests.support.telegram import RecordingSession


def user_sends(session: RecordingSession) -> Counter[int]:
    return Counter(int(m.chat_id) for m in session.sent(SendMessage) if m.chat_id != ADMIN_ID)


async def counts(pool: SessionPool, cipher: FieldCipher, broadcast_id: int) -> dict[str, int]:
    async with pool() as session:
        return (await Repos.build(session, cipher).broadcasts.counts(broadcast_id)).by_status


async def test_audiences(
    make_users: MakeUsers, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    await make_users([1, 2], "kk")
    await make_users([3], "ru", holder="legal")
    await make_users([4], "ru", expires_in=10)
    await make_users([5], "ru", broadcasts_opt_in=False)
    await make_users([6], "ru", consent=False)
    blocked = await make_users([7], "kk")
    clock.advance(days=40)
    await make_users([8], "ru")  # active recently; the others were last seen 40 days ago
    async with pool() as session:
        repos = Repos.build(session, cipher)
        await repos.users.mark_blocked(blocked[0], clock.now)
        today = clock.now.date()
        count = repos.broadcasts.count_audience
        assert await count(Audience(), clock.now, today) == 5
        assert await count(Audience(kind="lang", lang="kk"), clock.now, today) == 2
        assert await count(Audience(kind="legal"), clock.now, today) == 1
        assert await count(Audience(kind="inactive", days=30), clock.now, today) == 4
        # The key of user 4 expires 10 days after 2 March, i.e. already gone after 40 days.
        assert await count(Audience(kind="expiring", days=30), clock.now, today) == 0
        assert await count(Audience(kind="expiring", days=30), clock.now,
                           today - timedelta(days=40)) == 1


async def test_everyone_once_in_their_language(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock, translator: Translator,
) -> None:
    await make_users(list(range(100, 130)), "kk")
    await make_users(list(range(200, 230)), "ru")
    broadcast_id = await new_broadcast(pool, cipher, clock)
    assert await engine.resume_due() == [broadcast_id]
    await engine.wait_idle()
    sends = user_sends(session)
    assert len(sends) == 60 and set(sends.values()) == {1}
    texts = {int(m.chat_id): m.text for m in session.sent(SendMessage)}
    assert texts[100] == "<b>Кеңес</b>" and texts[200] == "<b>Совет</b>"
    assert await counts(pool, cipher, broadcast_id) == {"sent": 60}
    report = translator.get("ru", "broadcast-report", id=broadcast_id, total=60, sent=60,
                            failed=0, blocked=0, excluded=0, unknown=0, remaining=0, eta="0:00")
    assert session.last_text() == report
    async with pool() as s:
        assert (await Repos.build(s, cipher).broadcasts.get(broadcast_id)).status == "done"  # type: ignore[union-attr]


async def test_429_storm_paces_and_retries(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock, vtime: VirtualTime,
) -> None:
    await make_users(list(range(300, 340)))
    storm = iter(range(12))

    def flood(method: TelegramMethod[Any]) -> Exception | None:
        if isinstance(method, SendMessage) and next(storm, None) is not None:
            return TelegramRetryAfter(method, "Too Many Requests", retry_after=3)
        return None

    session.failures.append(flood)
    broadcast_id = await new_broadcast(pool, cipher, clock)
    await engine.resume_due()
    await engine.wait_idle()
    # One recipient met more consecutive 429s than a claim may wait: back to pending, and the
    # next scheduler pass (every minute) sends it.
    assert (await counts(pool, cipher, broadcast_id)).get("pending", 0) <= 1
    await engine.resume_due()
    await engine.wait_idle()
    assert set(user_sends(session).values()) == {1} and len(user_sends(session)) == 40
    assert await counts(pool, cipher, broadcast_id) == {"sent": 40}
    # The whole bot paused for retry_after after each 429 instead of hammering on.
    assert vtime.now >= 10 * 3


async def test_forbidden_and_chat_not_found(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock,
) -> None:
    ids = await make_users([401, 402, 403, 404])

    def fail(method: TelegramMethod[Any]) -> Exception | None:
        chat = getattr(method, "chat_id", None)
        if isinstance(method, SendMessage) and chat == 402:
            return TelegramForbiddenError(method, "Forbidden: bot was blocked by the user")
        if isinstance(method, SendMessage) and chat == 403:
            return TelegramBadRequest(method, "Bad Request: chat not found")
        return None

    session.failures.append(fail)
    broadcast_id = await new_broadcast(pool, cipher, clock)
    await engine.resume_due()
    await engine.wait_idle()
    assert await counts(pool, cipher, broadcast_id) == {"sent": 2, "blocked": 1, "missing": 1}
    async with pool() as s:
        users = Repos.build(s, cipher).users
        assert (await users.get(ids[1])).blocked_at is not None  # type: ignore[union-attr]
        assert (await users.get(ids[2])).blocked_at is not None  # type: ignore[union-attr]
        assert (await users.get(ids[0])).blocked_at is None  # type: ignore[union-attr]


class Crash(BaseException):
    """Stands in for kill -9: nothing after it runs, no except clause catches it."""


async def test_resume_after_crash_skips_nobody_and_sends_nobody_twice(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock, bot: Any, translator: Translator,
    settings: Any, vtime: VirtualTime,
) -> None:
    await make_users(list(range(500, 550)))
    sends = 0
    crashed: list[int] = []  # the chat of message 21: which one it is depends on the workers

    def die_after_send(method: TelegramMethod[Any]) -> Exception | None:
        nonlocal sends
        if isinstance(method, SendMessage) and method.chat_id != ADMIN_ID:
            sends += 1
            if sends == 21:
                # Telegram got message 21, the process dies before marking it sent.
                session.requests.append(method)
                crashed.append(int(method.chat_id))
                raise Crash
        return None

    session.failures.append(die_after_send)
    broadcast_id = await new_broadcast(pool, cipher, clock)
    with pytest.raises(Crash):
        await engine.run(broadcast_id)
    session.failures.clear()
    before = await counts(pool, cipher, broadcast_id)
    # Rows marked sent are messages Telegram accepted, never the one the crash interrupted
    # (other workers' sends already under way may complete while the run is torn down).
    assert before["claimed"] >= 1 and before["sent"] <= sends - 1
    assert before["claimed"] <= engine.workers  # the window: one message per worker at most

    clock.advance(minutes=5)  # the dead process's claims are stale now
    restarted = BroadcastEngine(bot, pool, cipher, translator, settings, clock, engine.pacer)
    assert await restarted.resume_due() == [broadcast_id]
    await restarted.wait_idle()
    after = await counts(pool, cipher, broadcast_id)
    delivered = user_sends(session)
    assert max(delivered.values()) == 1, "somebody got the broadcast twice"
    assert "pending" not in after and "claimed" not in after
    assert after["sent"] + after["unknown"] == 50
    # Only rows in flight at the crash are unknown (not re-sent); message 21 was among them.
    assert after["unknown"] == before["claimed"]
    assert delivered[crashed[0]] == 1 and len(delivered) >= after["sent"] + 1


async def test_cancel_stops_pending_deliveries(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock,
) -> None:
    await make_users(list(range(600, 610)))
    broadcast_id = await new_broadcast(pool, cipher, clock, delay=timedelta(hours=1))
    assert await engine.resume_due() == []  # not due yet
    clock.advance(hours=1)
    async with pool() as s:
        assert await Repos.build(s, cipher).broadcasts.cancel(broadcast_id, clock.now)
        await s.commit()
    assert await engine.resume_due() == []
    assert user_sends(session) == Counter()


async def test_opted_out_after_start_is_excluded(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock,
) -> None:
    ids = await make_users([701, 702])
    broadcast_id = await new_broadcast(pool, cipher, clock)
    async with pool() as s:
        repos = Repos.build(s, cipher)
        await repos.broadcasts.start(broadcast_id, clock.now, clock.now.date())
        await repos.users.update_settings(ids[0], broadcasts_opt_in=False)
        await s.commit()
    await engine.resume_due()
    await engine.wait_idle()
    assert await counts(pool, cipher, broadcast_id) == {"sent": 1, "excluded": 1}
    assert set(user_sends(session)) == {702}


async def test_a_crashed_run_leaves_no_worker_behind(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock,
) -> None:
    """When run() raises, its workers have finished unwinding: none of them may claim, settle or
    hand back a delivery afterwards. On PostgreSQL a worker's cancelled commit could land after a
    restarted run had begun, leaving a row `claimed` that neither run finished."""
    await make_users(list(range(760, 780)))
    sends = 0

    def die_on_third(method: TelegramMethod[Any]) -> Exception | None:
        nonlocal sends
        if isinstance(method, SendMessage) and method.chat_id != ADMIN_ID:
            sends += 1
            if sends == 3:
                raise Crash
        return None

    session.failures.append(die_on_third)
    broadcast_id = await new_broadcast(pool, cipher, clock)
    with pytest.raises(Crash):
        await engine.run(broadcast_id)
    current = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert left == []
    before = await counts(pool, cipher, broadcast_id)
    for _ in range(20):  # nothing changes behind the caller's back
        await asyncio.sleep(0)
    assert await counts(pool, cipher, broadcast_id) == before


async def test_claims_of_a_crashed_run_are_unknown_seconds_after_restart(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock, bot: Any, translator: Translator,
    settings: Any,
) -> None:
    await make_users(list(range(700, 720)))
    sends = 0

    def die_after_send(method: TelegramMethod[Any]) -> Exception | None:
        nonlocal sends
        if isinstance(method, SendMessage) and method.chat_id != ADMIN_ID:
            sends += 1
            if sends == 5:
                raise Crash
        return None

    session.failures.append(die_after_send)
    broadcast_id = await new_broadcast(pool, cipher, clock)
    with pytest.raises(Crash):
        await engine.run(broadcast_id)
    session.failures.clear()
    in_flight = (await counts(pool, cipher, broadcast_id))["claimed"]
    assert in_flight >= 1
    clock.advance(seconds=5)  # restarted at once: far less than the two-minute lease
    restarted = BroadcastEngine(bot, pool, cipher, translator, settings, clock, engine.pacer)
    assert await restarted.resume_due() == [broadcast_id]
    await restarted.wait_idle()
    after = await counts(pool, cipher, broadcast_id)
    assert "claimed" not in after and after["unknown"] == in_flight
    t = translator.for_lang("ru")
    report = session.last_text()
    assert t("broadcast-report", id=broadcast_id, total=20, sent=after["sent"], blocked=0,
             failed=0, unknown=in_flight, excluded=0) == report
