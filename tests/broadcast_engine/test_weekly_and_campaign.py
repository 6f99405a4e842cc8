"""Weekly tips never repeat until the library is exhausted; the 28 January campaign runs once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.methods import SendMessage

from bot.broadcast.engine import BroadcastEngine
from bot.broadcast.jobs import create_campaign, send_weekly_tips
from bot.broadcast.tips import load_tips
from bot.config import Settings
from bot.i18n import LOCALES_DIR, Translator
from bot.job_context import JobContext
from bot.scheduler import build_scheduler
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.broadcast_engine.conftest import MakeUsers
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession


def context(bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
            settings: Settings, clock: FakeClock, engine: BroadcastEngine) -> JobContext:
    return JobContext(bot, pool, cipher, translator, settings, clock, engine.pacer, engine)


async def test_weekly_tip_rotation(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession, bot: Bot,
    pool: SessionPool, cipher: FieldCipher, translator: Translator, settings: Settings,
    clock: FakeClock,
) -> None:
    await make_users([801], "kk")
    await make_users([802], "ru", weekly_tips=False)
    library = load_tips(LOCALES_DIR)
    ctx = context(bot, pool, cipher, translator, settings, clock, engine)
    rotation = len(library.rotation_ids)
    seen: list[str] = []
    for week in range(rotation + 1):
        assert await send_weekly_tips(ctx, library) == 1, week
        assert await send_weekly_tips(ctx, library) == 0  # a re-run in the same week
        text = session.last_text()
        seen.append(next(tid for tid in library.rotation_ids if library.text(tid, "kk") in text))
        clock.advance(days=7)
    assert {int(m.chat_id) for m in session.sent(SendMessage)} == {801}
    assert sorted(seen[:rotation]) == sorted(library.rotation_ids)  # each once per round
    assert seen[rotation] == seen[0]  # then a new round starts in the same order
    footer = translator.get("kk", "broadcast-weekly-footer")
    assert session.last_text().endswith(footer)


async def test_data_protection_day_campaign_once_a_year(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession, bot: Bot,
    pool: SessionPool, cipher: FieldCipher, translator: Translator, settings: Settings,
    clock: FakeClock,
) -> None:
    await make_users([901, 902], "ru")
    library = load_tips(LOCALES_DIR)
    ctx = context(bot, pool, cipher, translator, settings, clock, engine)
    jan28 = datetime(2027, 1, 28, 6, 0, tzinfo=UTC)  # 11:00 in Almaty
    assert await create_campaign(ctx, library, datetime(2027, 1, 27, 6, tzinfo=UTC)) is None
    clock.now = jan28
    first = await create_campaign(ctx, library, jan28)
    assert first is not None
    assert await create_campaign(ctx, library, jan28) is None  # idempotent
    await engine.wait_idle()
    sends = Counter(int(m.chat_id) for m in session.sent(SendMessage) if m.chat_id != 777)
    assert sends == {901: 1, 902: 1}
    campaign_texts = {tip.text("ru") for tip in library.campaign("data-protection-day")}
    assert any(m.text in campaign_texts for m in session.sent(SendMessage))
    next_year = datetime(2028, 1, 28, 6, 0, tzinfo=UTC)
    assert await create_campaign(ctx, library, next_year) is not None


def test_jobs_registered(
    bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    settings: Settings, clock: FakeClock, engine: BroadcastEngine,
) -> None:
    scheduler = build_scheduler(context(bot, pool, cipher, translator, settings, clock, engine))
    ids = {job.id for job in scheduler.get_jobs()}
    assert {"broadcast-resume", "weekly-tip", "campaign-28-jan"} <= ids
