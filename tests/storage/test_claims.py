"""Idempotency claims and conditional key updates, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from aiogram import Bot
from sqlalchemy import text

from bot.broadcast.engine import BroadcastEngine
from bot.config import Settings
from bot.delivery.pacer import LocalPacer
from bot.i18n import Translator
from bot.job_context import JobContext
from bot.keys.jobs import purge_claims
from bot.scheduler import build_scheduler
from storage.database import SessionPool
from storage.dto import KeyDraft
from storage.encryption import FieldCipher
from storage.repositories import Repos

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
CHAT_ID = 123456789


async def claim_in_own_session(pool: SessionPool, cipher: FieldCipher, key: str) -> bool:
    async with pool() as s:
        won = await Repos.build(s, cipher).claims.claim(key, NOW)
        await asyncio.sleep(0)  # let the others reach their INSERT while this one is open
        await s.commit()
        return won


async def test_claim_once_across_concurrent_sessions(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        key = Repos.build(s, cipher).claims.key_for("tap", CHAT_ID, 42, "save")
    results = await asyncio.gather(
        *(claim_in_own_session(backend_pool, cipher, key) for _ in range(5))
    )
    assert sorted(results) == [False, False, False, False, True]
    async with backend_pool() as s:
        claims = Repos.build(s, cipher).claims
        assert await claims.is_claimed(key)
        assert not await claims.claim(key, NOW)
        other = claims.key_for("tap", CHAT_ID, 42, "delete")
        assert not await claims.is_claimed(other) and await claims.claim(other, NOW)


async def test_claim_keys_hold_no_telegram_id(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        claims = Repos.build(s, cipher).claims
        key = claims.key_for("tap", CHAT_ID, 42, "save")
        assert key == claims.key_for("tap", CHAT_ID, 42, "save") and len(key) == 64
        await claims.claim(key, NOW)
        await s.commit()
        dump = repr((await s.execute(text("SELECT * FROM action_claims"))).all())
    assert str(CHAT_ID) not in dump and "save" not in dump


async def test_purge_forgets_claims_older_than_a_month(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        claims = Repos.build(s, cipher).claims
        await claims.claim("old", NOW - timedelta(days=31))
        await claims.claim("recent", NOW - timedelta(days=29))
        await s.commit()
    assert await purge_claims(backend_pool, cipher, lambda: NOW) == 1
    async with backend_pool() as s:
        claims = Repos.build(s, cipher).claims
        assert not await claims.is_claimed("old") and await claims.is_claimed("recent")


def test_purge_runs_daily(
    bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator, settings: Settings,
    pacer: LocalPacer, broadcasts: BroadcastEngine,
) -> None:
    ctx = JobContext(bot, pool, cipher, translator, settings, lambda: NOW, pacer, broadcasts)
    [job] = [j for j in build_scheduler(ctx).get_jobs() if j.id == "claims-purge"]
    assert job.func is purge_claims


async def test_conditional_key_updates_report_repeats(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        user = await repos.users.create(CHAT_ID, "ru", "Asia/Almaty", NOW, True)
        draft = KeyDraft(kind="file", purpose="auth", expires_on=date(2027, 1, 1), label="K")
        key = await repos.keys.add(user.id, draft, NOW)
        assert key.last_used_at is None  # added is not used
        later = NOW + timedelta(hours=1)
        assert await repos.keys.mark_used(user.id, key.id, later, since=NOW)
        assert not await repos.keys.mark_used(user.id, key.id, later, since=NOW)
        assert await repos.keys.mark_used(user.id, key.id, later + timedelta(days=1),
                                          since=later + timedelta(hours=1))
        assert await repos.keys.set_flag(user.id, key.id, NOW, "reminders_stopped", True)
        assert not await repos.keys.set_flag(user.id, key.id, NOW, "reminders_stopped", True)
        assert await repos.keys.set_flag(user.id, key.id, NOW, "reminders_stopped", False)
        assert not await repos.keys.set_flag(user.id + 1, key.id, NOW, "password_changed", True)
        fresh = await repos.keys.get_owned(user.id, key.id)
        assert fresh is not None and fresh.last_used_at == later + timedelta(days=1)
        assert fresh.last_activity_at == later + timedelta(days=1)
        assert not fresh.reminders_stopped and not fresh.password_changed
