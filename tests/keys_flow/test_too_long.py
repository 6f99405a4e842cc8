"""Input-length errors say how much fits, in both languages."""

from __future__ import annotations

import pytest
from aiogram import Bot, Dispatcher

from bot.i18n import Translator
from handlers.keys.ui import MAX_LABEL, MAX_NOTE
from tests.keys_flow.flow import Chat
from tests.support.telegram import RecordingSession, UpdateFactory


@pytest.mark.parametrize(("lang", "user_id"), [("kk", 8401), ("ru", 8402)])
async def test_too_long_note_and_label_name_the_limit(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    lang: str, user_id: int,
) -> None:
    chat = Chat(dp, bot, session, UpdateFactory(user_id, lang), translator, lang)
    await chat.consent()
    await chat.send("/addkey")
    for button in ("btn-keys-kind-file", "btn-keys-holder-individual", "btn-keys-purpose-auth",
                   "btn-keys-today"):
        await chat.press(button)
    await chat.press(chat.buttons()[0][0])  # the proposed expiry
    reply = await chat.send("ж" * (MAX_NOTE + 1))
    assert reply == chat.t("keys-error-too-long", limit=MAX_NOTE)
    assert str(MAX_NOTE) in reply
    await chat.send("сейфте")
    reply = await chat.send("ж" * (MAX_LABEL + 1))
    assert reply == chat.t("keys-error-too-long", limit=MAX_LABEL)
    assert str(MAX_LABEL) in reply


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_length_error_names_the_limit(translator: Translator, lang: str) -> None:
    shown = translator.get(lang, "too-long", length=3001, limit=2000).replace("\xa0", "")
    assert "2000" in shown and "3001" in shown
    assert "77" in translator.get(lang, "keys-error-too-long", limit=77)
