"""What a person sees, through the real bot process and the local Telegram: every tap is
answered at the production throttle, bidi tricks are not shown, edits are read again, the
bot notices being blocked and unblocked, and group answers carry no vote buttons."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from bot.i18n import Translator
from tests.infra.tta import BotProcess, TTAClient, html_to_text

pytestmark = pytest.mark.e2e
BIDI = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


@pytest.fixture
def bot_env(bot_env: dict[str, str]) -> dict[str, str]:
    env = dict(bot_env)
    env.pop("THROTTLE_PER_MINUTE", None)  # the production default: 30 a minute
    return env


class Person:
    def __init__(self, tg: TTAClient, chat: int, lang: str) -> None:
        self.tg, self.chat, self.lang, self.t = tg, chat, lang, Translator()
        self.last = 0

    def text(self, msg_id: str, **args: Any) -> str:
        return html_to_text(self.t.get(self.lang, msg_id, **args))

    async def reply(self, prefix: str = "") -> dict[str, Any]:
        msg = await self.tg.wait_for_bot_message(
            self.chat, lambda m: m.get("text", "").startswith(prefix), 30, after_id=self.last)
        self.last = msg["message_id"]
        return msg

    async def command(self, text: str) -> dict[str, Any]:
        await self.tg.send_command(self.chat, text, language_code=self.lang)
        return await self.reply()

    async def say(self, text: str, expect: str = "") -> dict[str, Any]:
        await self.tg.send_message(self.chat, text, language_code=self.lang)
        return await self.reply(expect)

    async def press(self, msg: dict[str, Any], index: int = 0) -> dict[str, Any]:
        rows = msg["reply_markup"]["inline_keyboard"]
        data = [b["callback_data"] for row in rows for b in row][index]
        await self.tg.send_callback(msg, data, language_code=self.lang)
        return await self.reply()

    async def my_last_message_id(self) -> int:
        mine = [r for r in await self.tg.history() if isinstance(r.get("message"), dict)
                and "chat_id" not in r["message"] and "messageId" in r]
        return int(mine[-1]["messageId"])


async def test_brisk_dialog_and_quick_taps_are_all_answered_and_shown_clean(
    bot_process: BotProcess, tta_client: TTAClient
) -> None:
    tg, u = tta_client, Person(tta_client, 74001, "kk")
    since = time.time()
    greeting = await u.command("/start")
    await u.press(greeting)  # consent
    step = await u.command("/addkey")
    step = await u.reply(u.text("keys-ask-kind"))
    # kind "file", holder "individual", Back (after the four purposes), holder again,
    # purpose "auth", issued "today", the proposed expiry: seven taps and two texts.
    for index in (0, 0, 4, 0, 0, 0, 0):
        step = await u.press(step, index)
    await u.say("көк флешкада\u200b")
    saved = await u.press(await u.say("есеп\u202etxt.exe"))  # label, then "save"
    assert "есепtxt.exe" in saved["text"] and not BIDI.search(saved["text"])
    dialog = await answered(tg, since, 9)  # consent, seven dialog taps, save
    throttled = u.t.get("kk", "throttled")
    assert all(c["params"].get("text") != throttled for c in dialog)
    assert throttled not in [m.get("text") for m in await tg.bot_messages(u.chat)]

    menu = await u.command("/start")
    faq = menu["reply_markup"]["inline_keyboard"][1][1]["callback_data"]
    since = time.time()
    for _ in range(25):  # quick taps on one button: none may be left spinning
        await tg.send_callback(menu, faq, language_code="kk")
    assert len(await answered(tg, since, 25)) == 25


async def answered(tg: TTAClient, since: float, expected: int) -> list[dict[str, Any]]:
    """answerCallbackQuery calls since `since`, once `expected` are there (or after 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        calls = [c for c in await tg.calls("answerCallbackQuery", since) if c["status"] == 200]
        if len(calls) >= expected or time.monotonic() > deadline:
            return calls
        await asyncio.sleep(0.2)


async def test_edits_membership_and_group_answers(
    bot_process: BotProcess, tta_client: TTAClient
) -> None:
    tg, u = tta_client, Person(tta_client, 74002, "ru")
    await u.press(await u.command("/start"))
    answer = await u.say("как продлить эцп?")
    votes = [b["callback_data"] for row in answer["reply_markup"]["inline_keyboard"]
             for b in row]
    assert any(d.startswith("fb:") for d in votes)
    question_id = await u.my_last_message_id()
    since = time.time()
    person = tg.user(u.chat, language_code="ru")
    edited = {"message_id": question_id, "date": int(since), "edit_date": int(since),
              "from": person, "chat": {"id": u.chat, "type": "private", "first_name": "Tester"},
              "text": "а пароль от ключа Qwerty2024"}
    await tg.inject_update({"edited_message": edited})
    await u.reply(u.text("questions-secret-warning"))
    deleted = await tg.wait_for_call("deleteMessage", since=since)
    assert int(deleted["params"]["message_id"]) == question_id

    member: dict[str, Any] = {"status": "member", "user": {"id": tg.bot_id, "is_bot": True,
                                                           "first_name": "Kilt"}}
    kicked = {**member, "status": "kicked", "until_date": 0}
    chat = {"id": u.chat, "type": "private", "first_name": "Tester"}
    blocked = {"chat": chat, "from": person, "date": int(time.time()),
               "old_chat_member": member, "new_chat_member": kicked}
    await tg.inject_update({"my_chat_member": blocked})
    back = {**blocked, "old_chat_member": kicked, "new_chat_member": member}
    await tg.inject_update({"my_chat_member": back})
    await u.reply(u.text("membership-welcome-back"))

    group = -100740
    await tg.send_message(group, "@tta_test_bot как продлить эцп?", user_id=u.chat,
                          chat_type="supergroup",
                          entities=[{"type": "mention", "offset": 0, "length": 13}])
    in_group = await tg.wait_for_bot_message(group, timeout=30)
    rows = (in_group.get("reply_markup") or {}).get("inline_keyboard") or []
    assert rows and not any(b["callback_data"].startswith("fb:") for row in rows for b in row)
