"""Migration 0004 (claims in reminder_claims): a row claimed before the upgrade keeps its
claim, token and age, so recovery still works; downgrading puts it back (SQLite + PG)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.database import create_engine, create_session_pool, downgrade_sync, migrate
from storage.reminders import ReminderRepo
from tests.conftest import backend_params

CLAIMED_AT = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)


@pytest.fixture(params=backend_params())
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'stairs.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


def _at(url: str, moment: datetime) -> object:
    # What the TZDateTime column stores: naive UTC text on SQLite, a timestamptz on PG.
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if url.startswith("sqlite") else moment


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        rows = [tuple(r) for r in (await conn.execute(text(sql))).all()]
    await engine.dispose()
    return rows


async def test_upgrade_keeps_claims_and_downgrade_restores_them(empty_url: str) -> None:
    await migrate(empty_url, "0001")
    engine = create_engine(empty_url)
    at = _at(empty_url, CLAIMED_AT)
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO users (id, tg_index, tg_id_enc, language, timezone, created_at, "
            "last_seen_at, expiry_offsets, activity_mode, window_start, window_end, weekly_tips, "
            "broadcasts_opt_in) VALUES (1, 'x', :blob, 'ru', 'Asia/Almaty', :at, :at, '30', "
            "'off', 600, 1200, true, true)"), {"blob": b"x", "at": at})
        for rid, status in ((1, "claimed"), (2, "pending"), (3, "sent")):
            await conn.execute(text(
                "INSERT INTO reminders (id, user_id, kind, stage, due_at, status, claim_token, "
                "claimed_at) VALUES (:id, 1, 'checkup', :stage, :at, :status, :token, :claimed)"),
                {"id": rid, "stage": rid, "at": at, "status": status,
                 "token": "tok" if status == "claimed" else None,
                 "claimed": at if status == "claimed" else None})
    await engine.dispose()

    await migrate(empty_url, "0004")
    assert await _rows(empty_url, "SELECT reminder_id, token FROM reminder_claims") == [
        (1, "tok")]
    engine = create_engine(empty_url)
    async with create_session_pool(engine)() as session:
        repo = ReminderRepo(session)
        assert [s for *_, s, _ in await repo.statuses(1)] == ["claimed", "pending", "sent"]
        assert await repo.release_stale(datetime(2026, 3, 2, 4, tzinfo=UTC)) == 0  # still young
        assert await repo.release_stale(datetime(2026, 3, 2, 6, tzinfo=UTC)) == 1
        await session.rollback()
    await engine.dispose()

    await asyncio.to_thread(downgrade_sync, empty_url, "0001")
    rows = await _rows(empty_url, "SELECT id, status, claim_token FROM reminders ORDER BY id")
    assert rows == [(1, "claimed", "tok"), (2, "pending", None), (3, "sent", None)]
