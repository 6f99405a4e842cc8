"""Unanswered questions and learned phrasings on SQLite and PostgreSQL: grouping, double taps,
retention, key rotation; the 0003 migration up and down."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select

from bot.qa.redact import redact
from storage.database import SessionPool, create_engine, downgrade_sync, migrate
from storage.encryption import FieldCipher
from storage.models import UnansweredQuestion
from storage.repositories import Repos
from storage.rotation import rotate_session
from storage.write_behind import WriteBehind

INLINE = WriteBehind(None)  # a closed writer: log rows written in the caller's session

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
Q1 = "Меня зовут Айгерим, тел 87011234567: на госуслугах чужое заявление, что это?"
Q1_AGAIN = "меня зовут Асхат, тел 8 777 111 22 33 — на госуслугах чужое заявление, что это"
Q2 = "Әжеме зейнетақы рәсімдеуге бола ма?"


async def test_unanswered_are_grouped_taken_once_and_purged(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        await repos.questions.log_unanswered(Q2, "kk", 0.1, NOW - timedelta(days=40), INLINE)
        await repos.questions.log_unanswered(Q1, "ru", 0.1, NOW - timedelta(days=1), INLINE)
        await repos.questions.log_unanswered(Q1_AGAIN, "ru", 0.2, NOW, INLINE)
        await repos.questions.log_unanswered("87011234567", "ru", 0.0, NOW, INLINE)  # a number
        await s.commit()
        top = await repos.questions.top_unanswered(NOW - timedelta(days=90))
        assert [(g.count, g.lang) for g in top] == [(2, "ru"), (1, "ru"), (1, "kk")]
        assert top[0].text == redact(Q1_AGAIN)  # the latest wording of the group
        recent = await repos.questions.top_unanswered(NOW - timedelta(days=30))
        assert [g.count for g in recent] == [2, 1]
        taken = await repos.questions.take_group(top[0].id)
        assert taken is not None and taken.count == 2
        assert await repos.questions.take_group(top[0].id) is None  # a double tap
        await s.commit()
        assert await repos.questions.purge_unanswered(NOW - timedelta(days=30)) == 1
        await s.commit()
        assert len(await repos.questions.top_unanswered(NOW - timedelta(days=90))) == 1


async def test_learned_phrasing_is_retaught_in_place_and_removed_once(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        empty = await repos.learned.fingerprint()
        first = await repos.learned.save(Q1, "fraud", "ru", 777, NOW)
        await s.commit()
        after_first = await repos.learned.fingerprint()
        assert after_first != empty
        # The same question with other details, taught again: one row, the newer decision.
        again = await repos.learned.save(Q1_AGAIN, None, "ru", 778, NOW + timedelta(minutes=1))
        await s.commit()
        assert again.id == first.id and again.topic is None
        assert await repos.learned.fingerprint() != after_first
        await repos.learned.save(Q2, "cost", "kk", 777, NOW)
        await s.commit()
        assert [(x.topic, x.lang) for x in await repos.learned.list()] == [
            ("cost", "kk"), (None, "ru")
        ]
        assert await repos.learned.count() == 2
        removed = await repos.learned.remove(first.id)
        assert removed is not None and removed.text.startswith("меня зовут <name>")
        assert await repos.learned.remove(first.id) is None
        await s.commit()
        assert [x.text for x in await repos.learned.list(1)] == [Q2]


async def test_rotation_keeps_questions_grouped_and_learned_unique(
    backend_pool: SessionPool,
) -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    async with backend_pool() as s:
        repos = Repos.build(s, FieldCipher(old_key))
        await repos.questions.log_unanswered(Q1, "ru", 0.1, NOW, INLINE)
        await repos.learned.save(Q2, "cost", "kk", 777, NOW)
        await s.commit()
    async with backend_pool() as s:
        counts = await rotate_session(s, FieldCipher(new_key, [old_key]))
    assert counts["unanswered_questions.text_enc"] == 1
    assert counts["learned_phrasings.text_enc"] == 1
    async with backend_pool() as s:
        repos = Repos.build(s, FieldCipher(new_key))
        await repos.questions.log_unanswered(Q1_AGAIN, "ru", 0.1, NOW, INLINE)
        await repos.learned.save(Q2 + "!", None, "kk", 777, NOW)  # same question: same row
        await s.commit()
        assert [g.count for g in await repos.questions.top_unanswered(NOW)] == [2]
        assert [(x.text, x.topic) for x in await repos.learned.list()] == [(Q2 + "!", None)]


async def test_migration_0003_up_down_up(tmp_path: Path, cipher: FieldCipher) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stairs.sqlite3'}"
    await migrate(url)
    await asyncio.to_thread(downgrade_sync, url, "0003-1")  # just before this revision
    engine = create_engine(url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        columns = await conn.run_sync(
            lambda c: {col["name"] for col in sa.inspect(c).get_columns("unanswered_questions")}
        )
    await engine.dispose()
    assert "learned_phrasings" not in tables and "text" in columns
    await migrate(url)
    engine = create_engine(url)
    async with engine.connect() as conn:
        assert (await conn.execute(select(UnansweredQuestion))).all() == []
    await engine.dispose()
