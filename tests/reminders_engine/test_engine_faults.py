"""Crashes, restarts, downtime, 403 and 429 during a scan; the scan's index use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import SendMessage, TelegramMethod
from sqlalchemy import text

from bot.reminders.engine import ReminderEngine
from storage.database import SessionPool
from storage.reminders import ReminderRepo
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession, UpdateFactory

from .conftest import FakeSleep, World  # noqa: TID252


async def test_crash_between_claim_and_send_loses_nothing(
    world: World, engine: ReminderEngine, session: RecordingSession, clock: FakeClock,
) -> None:
    user = await world.user(6001)
    await world.key(user, world.today(3))
    batches = engine.claimed_batches(clock.now)
    claim = await anext(batches)  # claimed and committed ... then the process dies
    await batches.aclose()
    assert list(claim.by_user) == [user.id]
    assert "claimed" in {s for *_, s in await world.statuses(user)}
    await engine.scan()  # restarted at once: the claim may still be alive, nothing is sent
    assert session.sent() == []
    clock.advance(minutes=11)  # older than the claim timeout: recovered and sent, once
    report = await engine.scan()
    assert report["recovered"] == 1 and report["sent"] == 1
    await engine.scan()
    assert len(session.sent()) == 1


async def test_crash_between_send_and_mark_repeats_at_most_that_message(
    world: World, engine: ReminderEngine, session: RecordingSession, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The documented at-least-once window: the message went out, 'sent' never committed."""
    user = await world.user(6002)
    await world.key(user, world.today(3))

    async def crash(*args: Any, **kwargs: Any) -> int:
        raise KeyboardInterrupt  # the process dies right after Telegram accepted the message

    monkeypatch.setattr(ReminderRepo, "mark_sent", crash)
    with pytest.raises(KeyboardInterrupt):
        await engine.scan()
    monkeypatch.undo()
    assert len(session.sent()) == 1
    clock.advance(minutes=11)
    await engine.scan()
    assert len(session.sent()) == 2  # the one repeated message, never a lost one
    clock.advance(minutes=11)
    await engine.scan()
    assert len(session.sent()) == 2


async def test_restart_after_days_down_sends_one_catch_up_message(
    world: World, engine: ReminderEngine, session: RecordingSession, clock: FakeClock,
) -> None:
    user = await world.user(6003)
    key = await world.key(user, world.today(10))
    clock.advance(days=9)  # down through the 7 and 3 day stages; 1 day left now
    await engine.scan()
    await engine.scan()
    assert len(session.sent()) == 1
    rows = await world.statuses(user)
    by_stage = {stage: status for kind, stage, key_id, status in rows if key_id == key.id
                and kind == "expiry"}
    assert by_stage[7] == "skipped" and by_stage[3] == "skipped" and by_stage[1] == "sent"
    assert by_stage[0] == "pending"


async def test_long_expired_reminders_are_skipped_not_sent_late(
    world: World, engine: ReminderEngine, session: RecordingSession, clock: FakeClock,
) -> None:
    user = await world.user(6004)
    await world.key(user, world.today(2))
    clock.advance(days=10)  # the key expired a week ago; a late countdown helps nobody
    await engine.scan()
    assert session.sent() == []
    statuses = [s for kind, *_, s in await world.statuses(user) if kind == "expiry"]
    assert statuses and set(statuses) == {"skipped"}


def _fail_for(chat_id: int, error: Exception, times: int) -> Any:
    left = [times]

    def fail(method: TelegramMethod[Any]) -> Exception | None:
        if isinstance(method, SendMessage) and int(method.chat_id) == chat_id and left[0] > 0:
            left[0] -= 1
            return error
        return None

    return fail


async def test_403_marks_blocked_keeps_reminder_and_resumes_on_return(
    world: World, engine: ReminderEngine, session: RecordingSession, clock: FakeClock,
    dp: Dispatcher, bot: Any,
) -> None:
    blocked = await world.user(6005)
    other = await world.user(6006)
    for user in (blocked, other):
        await world.key(user, world.today(3))
    forbidden = TelegramForbiddenError(
        method=SendMessage(chat_id=6005, text="x"),
        message="Forbidden: bot was blocked by the user",
    )
    session.failures.append(_fail_for(6005, forbidden, times=100))
    report = await engine.scan()
    assert report["blocked"] == 1 and report["sent"] == 1
    assert [int(m.chat_id) for m in session.sent()] == [6006]
    async with world.pool() as s:
        from storage.repositories import Repos

        marked = await Repos.build(s, world.cipher).users.get(blocked.id)
        assert marked is not None and marked.blocked_at is not None
    await engine.scan()
    assert len(session.sent()) == 1  # nothing is tried for a blocked user
    session.failures.clear()
    await dp.feed_update(bot, UpdateFactory(user_id=6005).message("/help"))  # writes again
    session.clear()
    await engine.scan()
    assert [int(m.chat_id) for m in session.sent()] == [6005]


async def test_429_waits_retry_after_and_sends_once(
    world: World, engine: ReminderEngine, session: RecordingSession, fake_sleep: FakeSleep,
) -> None:
    user = await world.user(6007)
    await world.key(user, world.today(3))
    flood = TelegramRetryAfter(
        method=SendMessage(chat_id=6007, text="x"),
        message="Too Many Requests: retry after 7", retry_after=7,
    )
    session.failures.append(_fail_for(6007, flood, times=2))
    report = await engine.scan()
    assert report["sent"] == 1 and len(session.sent()) == 1
    assert any(6.5 <= s <= 7.5 for s in fake_sleep.calls), fake_sleep.calls
    assert await engine.scan() and len(session.sent()) == 1


async def test_concurrent_claims_never_overlap(backend_pool: SessionPool) -> None:
    """Two scanners claiming the same rows: each row is won by exactly one (SQLite + PG)."""
    from storage.models import Reminder, User

    now = datetime(2026, 3, 2, 6, tzinfo=UTC)
    async with backend_pool() as s:
        s.add(User(id=1, tg_index="x", tg_id_enc=b"x", created_at=now, last_seen_at=now))
        await s.flush()
        for i in range(40):
            s.add(Reminder(user_id=1, kind="checkup", stage=i, due_at=now, status="pending"))
        await s.commit()
        ids = list((await s.scalars(text("SELECT id FROM reminders"))).all())
    async with backend_pool() as a, backend_pool() as b:
        won_a = await ReminderRepo(a).claim(ids[:30], "token-a", now)
        await a.commit()
        won_b = await ReminderRepo(b).claim(ids[10:], "token-b", now)
        await b.commit()
    assert len(won_a) == 30 and len(won_b) == 10
    assert not set(won_a) & set(won_b)


async def _plan(pool: SessionPool, query: Callable[[ReminderRepo], Awaitable[object]]) -> str:
    """EXPLAIN QUERY PLAN (SQLite) of the last statement `query` runs."""
    from sqlalchemy import event

    async with pool() as s:
        captured: list[tuple[str, Any]] = []
        engine = s.bind.sync_engine  # type: ignore[union-attr]

        def grab(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
            captured.append((statement, params))

        event.listen(engine, "before_cursor_execute", grab)
        await query(ReminderRepo(s))
        event.remove(engine, "before_cursor_execute", grab)
        sql, params = captured[-1]
        raw = await s.connection()
        plan = await raw.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(params))
        return " ".join(str(row[-1]) for row in plan.all())


@pytest.mark.sqlite_only(reason="reads SQLite's EXPLAIN QUERY PLAN")
async def test_scan_reads_the_due_index_alone(pool: SessionPool) -> None:
    """Due rows come from the covering partial index of pending rows: no table reads."""
    now = datetime(2026, 3, 2, 6, tzinfo=UTC)
    details = await _plan(pool, lambda repo: repo.due_page(now, (now - timedelta(days=1), 5), 100))
    assert "SEARCH reminders USING COVERING INDEX ix_reminders_due (due_at>? AND due_at<?)" \
        in details, details
    assert "SCAN" not in details and "TEMP B-TREE" not in details, details


@pytest.mark.sqlite_only(reason="reads SQLite's EXPLAIN QUERY PLAN")
async def test_scan_reads_a_pages_users_from_the_due_index(pool: SessionPool) -> None:
    """The rest of the due range, not each user's whole history through a user_id index."""
    now = datetime(2026, 3, 2, 6, tzinfo=UTC)
    details = await _plan(pool, lambda repo: repo.due_for_users([1, 2, 3], now, (now, 5)))
    assert "SEARCH reminders USING COVERING INDEX ix_reminders_due" in details, details
    assert "SCAN reminders" not in details, details  # only json_each's list of ids is scanned


async def test_a_claim_is_a_row_of_its_own(pool: SessionPool) -> None:
    """Claiming inserts into reminder_claims and leaves the reminder row untouched."""
    from storage.models import Reminder, User

    now = datetime(2026, 3, 2, 6, tzinfo=UTC)
    async with pool() as s:
        s.add(User(id=1, tg_index="x", tg_id_enc=b"x", created_at=now, last_seen_at=now))
        await s.flush()
        s.add(Reminder(id=7, user_id=1, kind="checkup", stage=0, due_at=now, status="pending"))
        await s.commit()
        repo = ReminderRepo(s)
        assert await repo.claim([7], "tok", now) == [7]
        assert await repo.due_page(now, None, 10) == []  # claimed: not offered again
        assert await repo.skip([7]) == 0  # nor skipped under the sender's feet
        assert await repo.mark_sent([7], "other-token", now) == 0
        assert await repo.mark_sent([7], "tok", now) == 1
        claims = (await s.execute(text("SELECT COUNT(*) FROM reminder_claims"))).scalar()
        assert claims == 0 and [st for *_, st, _ in await repo.statuses(1)] == ["sent"]
