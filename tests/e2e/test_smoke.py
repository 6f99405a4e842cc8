"""The real bot process talks to a local Telegram: onboarding and privacy commands."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.i18n import Translator
from tests.infra.tta import BotProcess, TTAClient, html_to_text

pytestmark = pytest.mark.e2e


def button_data(message: dict[str, Any], index: int = 0) -> str:
    rows = message["reply_markup"]["inline_keyboard"]
    return [b["callback_data"] for row in rows for b in row][index]


def plain(translator: Translator, lang: str, msg_id: str, **args: Any) -> str:
    return html_to_text(translator.get(lang, msg_id, **args))


@pytest.mark.parametrize(("lang", "chat"), [("kk", 71001), ("ru", 71002)])
async def test_start_consent_help_mydata_forget(
    bot_process: BotProcess, tta_client: TTAClient, lang: str, chat: int
) -> None:
    t = Translator()
    tg = tta_client
    await tg.send_command(chat, "/start", language_code=lang)
    greeting = await tg.wait_for_bot_message(
        chat, lambda m: m.get("text", "").startswith(plain(t, lang, "start-greeting")), 20
    )
    last = greeting["message_id"]
    await tg.send_callback(greeting, button_data(greeting, 0), language_code=lang)
    menu = await tg.wait_for_bot_message(chat, after_id=last, timeout=20)
    assert plain(t, lang, "start-consent-given") in menu["text"]
    last = menu["message_id"]

    await tg.send_command(chat, "/help", language_code=lang)
    help_msg = await tg.wait_for_bot_message(chat, after_id=last, timeout=20)
    assert help_msg["text"] == plain(t, lang, "help-text")
    last = help_msg["message_id"]

    await tg.send_command(chat, "/mydata", language_code=lang)
    doc = await tg.wait_for_bot_message(chat, lambda m: "document" in m, after_id=last, timeout=20)
    exported = json.loads(await tg.download(doc["document"]["file_id"]))
    assert exported["profile"]["tg_id"] == chat and exported["profile"]["language"] == lang
    last = doc["message_id"]

    await tg.send_command(chat, "/forget", language_code=lang)
    confirm = await tg.wait_for_bot_message(chat, after_id=last, timeout=20)
    assert confirm["text"] == plain(t, lang, "forget-confirm", keys=0)
    await tg.send_callback(confirm, button_data(confirm, 0), language_code=lang)
    done = await tg.wait_for_bot_message(chat, after_id=confirm["message_id"], timeout=20)
    assert done["text"] == plain(t, lang, "forget-done")

    # The commands were registered in both languages.
    registered = await tg.commands()
    assert registered, "set_my_commands was never called"
    assert bot_process.running


async def test_language_switch_end_to_end(bot_process: BotProcess, tta_client: TTAClient) -> None:
    t = Translator()
    chat = 71003
    await tta_client.send_command(chat, "/language", language_code="ru")
    choose = await tta_client.wait_for_bot_message(chat, timeout=20)
    assert choose["text"] == plain(t, "ru", "language-choose")
    await tta_client.send_callback(choose, button_data(choose, 0), language_code="ru")
    done = await tta_client.wait_for_bot_message(chat, after_id=choose["message_id"], timeout=20)
    assert done["text"] == plain(t, "kk", "language-set")
