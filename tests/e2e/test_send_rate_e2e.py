"""The real bot: a broadcast and a reminder scan at the same time stay under ONE global limit.

Both take their send slots from the bot's one pacer, so together they never exceed SEND_RPS
(before, each had its own and a scan during a broadcast doubled the bot's rate). Measured from the
local Telegram's log of the bot's sendMessage calls.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.context import utc_now
from bot.reminders.hooks import on_key_saved
from storage.broadcasts import Audience
from storage.database import create_engine, create_session_pool, migrate
from storage.dto import KeyDraft
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.infra.tta import BotProcess, TTAClient

pytestmark = pytest.mark.e2e
ADMIN = 900001
LIMIT = 10  # SEND_RPS for this test: low, so a run is short and a doubling is obvious
BURST = 2  # HTTP arrival jitter may bring two paced calls a little closer together
BROADCAST_CHATS = list(range(74000, 74040))
REMINDER_CHATS = list(range(74100, 74140))


async def seed(env: dict[str, str]) -> None:
    """Broadcast recipients, one broadcast due now, and users with a reminder due now."""
    url = env["DATABASE_URL"]
    await migrate(url)
    cipher = FieldCipher(base64.b64decode(env["DATA_KEY"]))
    engine = create_engine(url)
    now = utc_now()
    expires = now.astimezone(ZoneInfo("Asia/Almaty")).date() + timedelta(days=3)
    async with create_session_pool(engine)() as session:
        repos = Repos.build(session, cipher)
        for chat in BROADCAST_CHATS:
            await repos.users.create(chat, "ru", "Asia/Almaty", now, True)
        await repos.broadcasts.create(
            ADMIN, {"kk": "<b>Кеңес</b>", "ru": "<b>Совет</b>"}, Audience(), now, now,
            progress_chat=ADMIN,
        )
        # The audience is taken when the broadcast starts: reminder users opt out of broadcasts
        # to keep the two sets of chats apart.
        for chat in REMINDER_CHATS:
            created = await repos.users.create(chat, "ru", "Asia/Almaty", now, True)
            await repos.users.update_settings(created.id, window_start=0, window_end=0,
                                              broadcasts_opt_in=False)
            user = await repos.users.get(created.id)
            assert user is not None
            draft = KeyDraft(kind="file", purpose="personal", expires_on=expires, label="k")
            key = await repos.keys.add(user.id, draft, now)
            await on_key_saved(repos, user, key, now)
        await session.commit()
    await engine.dispose()


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most calls in any window of `window` seconds."""
    times, best, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_broadcast_and_reminders_together_stay_under_the_global_limit(
    bot_env: dict[str, str], tta_client: TTAClient, tmp_path: Path
) -> None:
    await seed(bot_env)
    env = {**bot_env, "SEND_RPS": str(LIMIT), "REMINDER_SCAN_SECONDS": "1"}
    ours = {*BROADCAST_CHATS, *REMINDER_CHATS, ADMIN}

    async def sends() -> list[dict[str, Any]]:
        calls = await tta_client.calls("sendMessage")
        return [c for c in calls if int(c["params"]["chat_id"]) in ours and c["status"] == 200]

    with BotProcess(env, cwd=tmp_path, log_path=tmp_path / "bot.log") as proc:
        proc.wait_for_log("bot started", timeout=90)
        deadline = time.monotonic() + 60
        while True:
            per_chat = Counter(int(c["params"]["chat_id"]) for c in await sends())
            if all(per_chat[c] for c in (*BROADCAST_CHATS, *REMINDER_CHATS)):
                break
            assert time.monotonic() < deadline, proc.log_text()[-3000:]
            await asyncio.sleep(0.2)
        calls = await sends()
    broadcast = [c["t"] for c in calls if int(c["params"]["chat_id"]) in BROADCAST_CHATS]
    reminders = [c["t"] for c in calls if int(c["params"]["chat_id"]) in REMINDER_CHATS]
    assert max(per_chat[c] for c in (*BROADCAST_CHATS, *REMINDER_CHATS)) == 1
    # They really ran together: reminders went out while the broadcast was still sending.
    assert min(reminders) < max(broadcast) - 1.0, (min(reminders), max(broadcast))
    peak = max_in_window([c["t"] for c in calls])
    assert peak <= LIMIT + BURST, f"{peak} sendMessage calls in one second, limit {LIMIT}"
