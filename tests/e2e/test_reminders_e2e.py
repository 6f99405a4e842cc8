"""The real bot sends a due reminder once, and after kill -9 mid-scan neither repeats nor loses."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.context import utc_now
from bot.i18n import Translator
from bot.reminders.hooks import on_key_saved
from bot.reminders.texts import fmt_date
from storage.database import create_engine, create_session_pool, migrate
from storage.dto import KeyDraft
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.infra.tta import BotProcess, TTAClient, html_to_text

pytestmark = pytest.mark.e2e
CHATS = (73001, 73002, 73003, 73004)


async def seed(env: dict[str, str]) -> str:
    """Users (any-time window) with a key expiring in 3 days, written with the bot's key."""
    await migrate(env["DATABASE_URL"])
    engine = create_engine(env["DATABASE_URL"])
    cipher = FieldCipher(base64.b64decode(env["DATA_KEY"]))
    now = utc_now()
    expires = now.astimezone(ZoneInfo("Asia/Almaty")).date() + timedelta(days=3)
    async with create_session_pool(engine)() as session:
        repos = Repos.build(session, cipher)
        for chat in CHATS:
            created = await repos.users.create(chat, "ru", "Asia/Almaty", now, True)
            await repos.users.update_settings(created.id, window_start=0, window_end=0)
            user = await repos.users.get(created.id)
            assert user is not None
            draft = KeyDraft(kind="file", purpose="personal", expires_on=expires,
                             label=f"key {chat}")
            key = await repos.keys.add(user.id, draft, now)
            await on_key_saved(repos, user, key, now)
        await session.commit()
    await engine.dispose()
    return fmt_date(expires)


async def reminders_by_chat(tg: TTAClient, expected: dict[int, str]) -> dict[int, int]:
    messages = await tg.bot_messages()
    return {chat: sum(1 for m in messages if m.get("text") == text)
            for chat, text in expected.items()}


async def test_reminder_once_across_kill_9(
    bot_env: dict[str, str], tta_client: TTAClient, tmp_path: Path
) -> None:
    t = Translator()
    day = await seed(bot_env)
    expected = {
        chat: html_to_text(t.get("ru", "reminders-expiry-soon", days=3, label=f"key {chat}",
                                 date=day))
        for chat in CHATS
    }
    # Pacing at one message per 2 s: the kill lands mid-scan, while later users are claimed
    # and waiting for their send slot. (A kill while a request is in flight is the documented
    # at-least-once window, covered by the engine tests.)
    env = {**bot_env, "REMINDER_SCAN_SECONDS": "1", "SEND_RPS": "0.5"}
    proc = BotProcess(env, cwd=tmp_path, log_path=tmp_path / "bot.log")
    try:
        proc.start()
        deadline = time.monotonic() + 60
        while sum((await reminders_by_chat(tta_client, expected)).values()) == 0:
            assert time.monotonic() < deadline, proc.log_text()[-3000:]
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the 'sent' commit of the first message, not the next send
        proc.kill()  # SIGKILL mid-scan: later users are claimed but not sent
        before = await reminders_by_chat(tta_client, expected)
        assert 0 < sum(before.values()) < len(CHATS), before
        proc.start()  # recovers the dead scan's claims once they pass the claim timeout
        deadline = time.monotonic() + 90
        while min((await reminders_by_chat(tta_client, expected)).values()) == 0:
            assert time.monotonic() < deadline, proc.log_text()[-3000:]
            await asyncio.sleep(0.2)
        await asyncio.sleep(4)  # a few more scans: nothing more may arrive
        after = await reminders_by_chat(tta_client, expected)
        assert after == dict.fromkeys(CHATS, 1), after
        assert "recovered" in proc.log_text()
    finally:
        proc.stop()
