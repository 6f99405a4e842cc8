"""The real bot process: an admin broadcast from the chat, and a kill -9 in the middle of one."""

from __future__ import annotations

import asyncio
import base64
import signal
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import Translator
from storage.broadcasts import Audience
from storage.database import create_engine, create_session_pool, migrate
from storage.encryption import FieldCipher
from storage.models import User
from storage.repositories import Repos
from tests.infra.tta import BotProcess, TTAClient, html_to_text

pytestmark = pytest.mark.e2e
ADMIN = 900001


def buttons(message: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def seed(env: dict[str, str], chats: list[int]) -> int:
    """Consenting users and one broadcast due now, written before the bot starts."""
    url = env["DATABASE_URL"]
    await migrate(url)
    cipher = FieldCipher(base64.b64decode(env["DATA_KEY"]))
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with create_session_pool(engine)() as session:
        for chat in chats:
            session.add(User(
                tg_index=cipher.blind_index(chat),
                tg_id_enc=cipher.encrypt(str(chat), "users.tg_id"),
                language="ru", timezone="Asia/Almaty", consent_at=now, created_at=now,
                last_seen_at=now,
            ))
        repos = Repos.build(session, cipher)
        broadcast_id = await repos.broadcasts.create(
            ADMIN, {"kk": "<b>Кеңес</b>", "ru": "<b>Совет</b>"}, Audience(), now, now,
            progress_chat=ADMIN,
        )
        await session.commit()
    await engine.dispose()
    return broadcast_id


async def test_admin_broadcasts_from_the_chat(
    bot_process: BotProcess, tta_client: TTAClient
) -> None:
    t, tg = Translator(), tta_client
    users = {72001: "kk", 72002: "ru"}
    for chat, lang in users.items():
        await tg.send_command(chat, "/start", language_code=lang)
        greeting = await tg.wait_for_bot_message(chat, timeout=20)
        await tg.send_callback(greeting, buttons(greeting)[0], language_code=lang)
        await tg.wait_for_bot_message(chat, after_id=greeting["message_id"], timeout=20)

    async def step(action: Any, expect: str, **args: Any) -> dict[str, Any]:
        last = await tg.last_bot_message_id(ADMIN)
        await action
        want = html_to_text(t.get("ru", expect, **args))
        return await tg.wait_for_bot_message(ADMIN, lambda m: m.get("text") == want,
                                             after_id=last, timeout=20)

    menu = await step(tg.send_command(ADMIN, "/broadcast", language_code="ru"), "broadcast-menu")
    await step(tg.send_callback(menu, buttons(menu)[0]), "broadcast-ask-kk")
    await step(tg.send_message(ADMIN, "<b>Кілтіңізді</b> сақтаңыз"), "broadcast-ask-ru")
    audience = await step(tg.send_message(ADMIN, "<b>Берегите</b> ключ"),
                          "broadcast-audience-choose")
    when = await step(tg.send_callback(audience, buttons(audience)[0]), "broadcast-when")
    confirm = await step(tg.send_callback(when, buttons(when)[0]), "broadcast-confirm",
                         audience=t.get("ru", "broadcast-aud-all"), count=2,
                         when=t.get("ru", "broadcast-now"), paid="no")
    await step(tg.send_callback(confirm, buttons(confirm)[0]), "broadcast-started", id=1, count=2)
    kk_html, ru_html = "<b>Кілтіңізді</b> сақтаңыз", "<b>Берегите</b> ключ"
    kk = await tg.wait_for_bot_message(72001, lambda m: m.get("html") == kk_html,
                                       timeout=20)
    ru = await tg.wait_for_bot_message(72002, lambda m: m.get("html") == ru_html,
                                       timeout=20)
    assert kk["text"] == "Кілтіңізді сақтаңыз" and ru["text"] == "Берегите ключ"
    # A non-admin is refused.
    await tg.send_command(72002, "/broadcast", language_code="ru")
    await tg.wait_for_bot_message(72002, lambda m: m.get("text") == t.get("ru", "admin-only"),
                                  timeout=20)


async def test_kill_9_mid_broadcast_resumes_without_duplicates(
    bot_env: dict[str, str], tta_client: TTAClient, tmp_path: Path
) -> None:
    chats = list(range(73000, 73150))
    await seed(bot_env, chats)
    with BotProcess(bot_env, cwd=tmp_path, log_path=tmp_path / "bot.log") as proc:
        proc.wait_for_log("bot started", timeout=60)

        async def sent() -> list[dict[str, Any]]:
            calls = await tta_client.calls("sendMessage")
            return [c for c in calls if int(c["params"]["chat_id"]) in set(chats)]

        while len(await sent()) < 40:
            await asyncio.sleep(0.05)
        proc.kill(signal.SIGKILL)
        before = len(await sent())
        assert before < len(chats), "the broadcast finished before the kill"
        proc.start()
        proc.wait_for_log("bot started", timeout=60)
        for _ in range(400):
            per_chat = Counter(int(c["params"]["chat_id"]) for c in await sent())
            if len(per_chat) >= len(chats) - 4:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        per_chat = Counter(int(c["params"]["chat_id"]) for c in await sent())
    assert max(per_chat.values()) == 1, "a recipient got the broadcast twice"
    # At most the messages in flight at the kill (one per worker) may be missing.
    assert len(per_chat) >= len(chats) - 4
