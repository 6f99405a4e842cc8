"""The real bot process: add a key by dialog and by certificate, see both in /mykeys."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.i18n import Translator
from tests.infra.tta import BotProcess, TTAClient, html_to_text
from tests.keys.certgen import TEST_IIN, der, make_cert, make_p12

pytestmark = pytest.mark.e2e


@pytest.fixture
def bot_env(bot_env: dict[str, str]) -> dict[str, str]:
    # The test clicks far faster than a person; the default 30/min would throttle it.
    return {**bot_env, "THROTTLE_PER_MINUTE": "600"}


class User:
    """One person talking to the bot through the emulator."""

    def __init__(self, tg: TTAClient, chat: int, lang: str) -> None:
        self.tg, self.chat, self.lang, self.t = tg, chat, lang, Translator()
        self.last = 0

    def text(self, msg_id: str, **args: Any) -> str:
        return html_to_text(self.t.get(self.lang, msg_id, **args))

    async def reply(self, prefix: str = "") -> dict[str, Any]:
        msg = await self.tg.wait_for_bot_message(
            self.chat, lambda m: m.get("text", "").startswith(prefix), 20, after_id=self.last)
        self.last = msg["message_id"]
        return msg

    async def command(self, text: str, expect: str = "") -> dict[str, Any]:
        await self.tg.send_command(self.chat, text, language_code=self.lang)
        return await self.reply(expect)

    async def say(self, text: str, expect: str = "") -> dict[str, Any]:
        await self.tg.send_message(self.chat, text, language_code=self.lang)
        return await self.reply(expect)

    async def press(self, msg: dict[str, Any], label_id: str, expect: str = "",
                    **args: Any) -> dict[str, Any]:
        label = self.t.get(self.lang, label_id, **args)
        rows = msg["reply_markup"]["inline_keyboard"]
        data = next(b["callback_data"] for row in rows for b in row if b["text"] == label)
        await self.tg.send_callback(msg, data, language_code=self.lang)
        return await self.reply(expect)


@pytest.mark.parametrize(("lang", "chat"), [("kk", 72001), ("ru", 72002)])
async def test_add_key_by_dialog_and_certificate(
    bot_process: BotProcess, tta_client: TTAClient, lang: str, chat: int
) -> None:
    u = User(tta_client, chat, lang)
    greeting = await u.command("/start", u.text("start-greeting"))
    await u.press(greeting, "btn-consent-yes")

    step = await u.command("/addkey", u.text("keys-ask-kind"))
    step = await u.press(step, "btn-keys-kind-file", u.text("keys-ask-holder"))
    step = await u.press(step, "btn-keys-holder-individual", u.text("keys-ask-purpose"))
    step = await u.press(step, "btn-keys-purpose-auth", u.text("keys-ask-issued"))
    step = await u.press(step, "btn-keys-today")
    rows = step["reply_markup"]["inline_keyboard"]
    await tta_client.send_callback(step, rows[0][0]["callback_data"], language_code=lang)
    await u.reply()
    await u.say("сейф / seif")
    summary = await u.say("Dialog label")
    assert "Dialog label" in summary["text"]
    await u.press(summary, "btn-keys-save")

    # A private key is refused (and deleted), the public certificate fills the form.
    p12 = await tta_client.upload("AUTH_RSA256_x.p12", make_p12())
    await tta_client.send_message(chat, document=p12, language_code=lang)
    assert (await u.reply(u.text("keys-secret-refused")[:40]))["text"]
    now = dt.datetime.now(dt.UTC)
    cert, _ = make_cert(not_before=now - dt.timedelta(days=30),
                        not_after=now + dt.timedelta(days=335))
    doc = await tta_client.upload("AUTH_RSA256_x.cer", der(cert))
    await tta_client.send_message(chat, document=doc, language_code=lang)
    read = await u.reply(u.text("keys-cert-read"))
    assert TEST_IIN not in read["text"] and TEST_IIN[:2] + "••" in read["text"]
    step = await u.reply(u.text("keys-ask-kind"))
    step = await u.press(step, "btn-keys-kind-file", u.text("keys-ask-storage")[:20])
    step = await u.press(step, "btn-keys-skip")
    summary = await u.say("Cert label")
    await u.press(summary, "btn-keys-save")

    listing = await u.command("/mykeys", u.text("keys-list-title", count=2))
    assert "Dialog label" in listing["text"] and "Cert label" in listing["text"]
    assert bot_process.running
