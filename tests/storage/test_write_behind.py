"""The write-behind of log rows on SQLite and PostgreSQL, with a controllable clock: a flush by
time, by size and at shutdown, a full queue written inline, one record per key, /forget's drop,
and a failing flush retried, then reported."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.lifecycle import Lifecycle
from storage.database import SessionPool
from storage.dto import UserDTO
from storage.encryption import FieldCipher
from storage.models import Feedback, UnansweredQuestion
from storage.repositories import Repos
from storage.write_behind import MAX_ATTEMPTS, LogRecord, WriteBehind
from tests.support.timers import ManualTimer, eventually, settle

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
QUESTION = "Әжеме зейнетақы рәсімдеуге бола ма?"


@pytest.fixture
def timer() -> ManualTimer:
    return ManualTimer()


@pytest.fixture
async def later(backend_pool: SessionPool, timer: ManualTimer) -> AsyncIterator[WriteBehind]:
    writer = WriteBehind(backend_pool, interval=0.5, batch=3, capacity=5, sleep=timer.sleep)
    yield writer
    await writer.close()


async def count(pool: SessionPool, model: type[UnansweredQuestion] | type[Feedback]) -> int:
    async with pool() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def ask(pool: SessionPool, cipher: FieldCipher, later: WriteBehind, n: int) -> None:
    """`n` unanswered questions logged through the writer, as an update's handler logs them."""
    async with pool() as s:
        for i in range(n):
            await Repos.build(s, cipher).questions.log_unanswered(
                f"{QUESTION} {i}", "kk", 0.1, NOW, later
            )
        await s.commit()


async def make_user(pool: SessionPool, cipher: FieldCipher, tg_id: int) -> UserDTO:
    async with pool() as s:
        user = await Repos.build(s, cipher).users.create(
            tg_id, "kk", "Asia/Almaty", NOW - timedelta(days=3), consent=True
        )
        await s.commit()
    return user


async def last_seen(pool: SessionPool, cipher: FieldCipher, user_id: int) -> datetime:
    async with pool() as s:
        user = await Repos.build(s, cipher).users.get(user_id)
    assert user is not None
    return user.last_seen_at


async def test_flushes_half_a_second_after_the_first_record(
    backend_pool: SessionPool, cipher: FieldCipher, later: WriteBehind, timer: ManualTimer
) -> None:
    await ask(backend_pool, cipher, later, 2)
    await timer.advance(0.4)
    assert await count(backend_pool, UnansweredQuestion) == 0 and later.pending == 2
    await timer.advance(0.1)
    await eventually(lambda: has(backend_pool, UnansweredQuestion, 2))
    assert later.pending == 0


async def has(pool: SessionPool, model: type[UnansweredQuestion] | type[Feedback], n: int) -> bool:
    return await count(pool, model) == n


async def test_a_full_batch_is_written_at_once_each_kind_in_one_transaction(
    backend_pool: SessionPool, cipher: FieldCipher, later: WriteBehind, timer: ManualTimer
) -> None:
    user = await make_user(backend_pool, cipher, 5001)
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        await repos.users.note_seen(user.id, NOW, later)
        assert await repos.questions.record_feedback("vote-1", "revoke", True, NOW, later)
        await settle()
        assert await count(backend_pool, Feedback) == 0  # two records: below the batch
        await repos.questions.log_unanswered(QUESTION, "kk", 0.1, NOW, later)  # the third
        await s.commit()
    await eventually(lambda: has(backend_pool, UnansweredQuestion, 1))  # no clock moved
    assert await count(backend_pool, Feedback) == 1
    assert await last_seen(backend_pool, cipher, user.id) == NOW
    async with backend_pool() as s:  # an older time never moves last seen backwards
        await Repos.build(s, cipher).users.note_seen(user.id, NOW - timedelta(hours=1), later)
    await later.flush()
    assert await last_seen(backend_pool, cipher, user.id) == NOW


async def test_shutdown_flushes_and_later_records_are_written_inline(
    backend_pool: SessionPool, cipher: FieldCipher, later: WriteBehind
) -> None:
    life = Lifecycle()
    life.on_shutdown.append(later.close)  # as bot/runtime.py registers it
    await ask(backend_pool, cipher, later, 2)
    await life.run_shutdown_hooks(5.0)  # no clock moved: the flush is the shutdown's
    assert await count(backend_pool, UnansweredQuestion) == 2
    async with backend_pool() as s:
        await Repos.build(s, cipher).questions.log_unanswered(QUESTION, "kk", 0.1, NOW, later)
        assert later.pending == 0  # in this session's transaction, not queued
        await s.commit()
    assert await count(backend_pool, UnansweredQuestion) == 3


async def test_a_full_queue_writes_inline_in_the_callers_transaction(
    backend_pool: SessionPool, cipher: FieldCipher, timer: ManualTimer
) -> None:
    small = WriteBehind(backend_pool, batch=100, capacity=2, sleep=timer.sleep)
    async with backend_pool() as s:
        questions = Repos.build(s, cipher).questions
        for i in range(3):
            await questions.log_unanswered(f"{QUESTION} {i}", "kk", 0.1, NOW, small)
        assert small.pending == 2
        assert await count(backend_pool, UnansweredQuestion) == 0  # not committed yet
        await s.commit()
    assert await count(backend_pool, UnansweredQuestion) == 1  # the overflow, not dropped
    await small.close()
    assert await count(backend_pool, UnansweredQuestion) == 3


async def test_one_record_per_key_votes_checked_against_queue_and_table_forget_drops(
    backend_pool: SessionPool, cipher: FieldCipher, later: WriteBehind
) -> None:
    user = await make_user(backend_pool, cipher, 5002)
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        await repos.users.note_seen(user.id, NOW, later)
        await repos.users.note_seen(user.id, NOW + timedelta(seconds=1), later)  # a quick repeat
        assert later.pending == 1
        assert await repos.questions.record_feedback("vote-2", "revoke", False, NOW, later)
        assert not await repos.questions.record_feedback("vote-2", "revoke", True, NOW, later)
        assert later.drop_owner(user.id) == 1  # /forget: the last-seen record goes
        assert later.pending == 1
    await later.flush()
    assert await last_seen(backend_pool, cipher, user.id) == NOW - timedelta(days=3)
    async with backend_pool() as s:  # already stored: the table answers
        repos = Repos.build(s, cipher)
        assert not await repos.questions.record_feedback("vote-2", "revoke", True, NOW, later)
    async with backend_pool() as s:
        votes = (await s.scalars(select(Feedback))).all()
    assert [(v.vote_key, v.helpful) for v in votes] == [("vote-2", False)]


async def test_a_closed_writer_stores_a_vote_at_once_and_refuses_its_twin(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    inline = WriteBehind(None)
    async with backend_pool() as s:
        questions = Repos.build(s, cipher).questions
        assert await questions.record_feedback("vote-3", "revoke", True, NOW, inline)
        assert not await questions.record_feedback("vote-3", "revoke", False, NOW, inline)
        await s.commit()
    assert await count(backend_pool, Feedback) == 1


async def test_twin_votes_queued_on_two_instances_store_one_row(
    backend_pool: SessionPool, cipher: FieldCipher, timer: ManualTimer
) -> None:
    """Neither instance sees the other's queue; the conflict clause keeps the first vote."""
    first, second = (WriteBehind(backend_pool, sleep=timer.sleep) for _ in range(2))
    async with backend_pool() as s:
        questions = Repos.build(s, cipher).questions
        assert await questions.record_feedback("vote-4", "revoke", True, NOW, first)
        assert await questions.record_feedback("vote-4", "revoke", False, NOW, second)
    await first.close()
    await second.close()
    async with backend_pool() as s:
        votes = (await s.scalars(select(Feedback))).all()
    assert [(v.vote_key, v.helpful) for v in votes] == [("vote-4", True)]


async def test_a_failing_flush_is_retried_then_reported_not_dropped_silently(
    backend_pool: SessionPool, cipher: FieldCipher, later: WriteBehind, timer: ManualTimer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await ask(backend_pool, cipher, later, 1)
    good = later._queue[0]
    later._queue.append(LogRecord(good.statement, {**good.params, "text_enc": None}))  # NOT NULL

    async def failed(times: int, retrying: bool = True) -> bool:
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        return len(errors) == times and timer.sleeping() == retrying  # waits for the next try

    with caplog.at_level(logging.ERROR, "storage.write_behind"):
        for attempt in range(1, MAX_ATTEMPTS):
            await timer.advance(0.5)
            await eventually(lambda attempt=attempt: failed(attempt))  # type: ignore[misc]
            assert later.pending == 2  # kept, in order, for the next interval
        await timer.advance(0.5)
        await eventually(lambda: failed(MAX_ATTEMPTS + 1, retrying=False))  # and the give-up
    assert later.pending == 0
    assert "gave up 2 log record(s)" in caplog.text
    assert "IntegrityError" in caplog.text and "text_enc" not in caplog.text  # no row values
