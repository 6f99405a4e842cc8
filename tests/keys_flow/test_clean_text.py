"""Labels, notes and company names lose bidi overrides, zero-width and control characters
before they are stored or shown: in chat, in /mydata and in the .ics."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import EditMessageText, SendDocument, SendMessage
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import text

from bot.i18n import Translator
from bot.texts import clean_text
from handlers.keys.input import check_input
from handlers.keys.ui import ListCb
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.conftest import FakeClock
from tests.keys_flow.flow import Chat, add_key, keys_of
from tests.support.telegram import RecordingSession, UpdateFactory

RLO, LRO, LRI, ZWSP, BOM, WJ = "\u202e", "\u202d", "\u2066", "\u200b", "\ufeff", "\u2060"
# Every character that must never reach a chat, a file or the database from user text.
INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060"
    "\u2066-\u2069\ufeff]"
)
TODAY = date(2026, 3, 2)


def test_clean_text_keeps_letters_and_drops_tricks() -> None:
    assert clean_text(f"{RLO}txt.exe") == "txt.exe"
    assert clean_text(f"Кілт{ZWSP}{BOM}{WJ}\x00\x1b[31m ҰКО{LRI}\u2069") == "Кілт[31m ҰКО"
    assert clean_text("ЖШС «Алма»\tжол\n2") == "ЖШС «Алма»\tжол\n2"
    # A value made only of invisible characters is empty, and refused as such.
    assert check_input("label", f"{RLO}{ZWSP}{BOM}", TODAY).error == "keys-error-empty"


def shown(session: RecordingSession) -> list[str]:
    """Every text the bot showed: messages, edits, captions and button labels."""
    out: list[str] = []
    for r in session.requests:
        if isinstance(r, SendMessage | EditMessageText | SendDocument):
            out.append(getattr(r, "text", None) or getattr(r, "caption", None) or "")
            if isinstance(r.reply_markup, InlineKeyboardMarkup):
                out += [b.text for row in r.reply_markup.inline_keyboard for b in row]
    return out


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_dialog_stores_and_shows_clean_text(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    pool: SessionPool, cipher: FieldCipher, lang: str,
) -> None:
    user_id = 8501 if lang == "kk" else 8502
    chat = Chat(dp, bot, session, UpdateFactory(user_id, lang), translator, lang)
    await chat.consent()
    await chat.send("/addkey")
    await chat.press("btn-keys-kind-file")
    await chat.press("btn-keys-holder-legal")
    await chat.send(f"ТОО {LRO}Ромашка{BOM}")
    for button in ("btn-keys-skip", "btn-keys-purpose-auth", "btn-keys-today"):
        await chat.press(button)
    await chat.press(chat.buttons()[0][0])  # the proposed expiry
    await chat.send(f"флешка{ZWSP} в\x07 сейфе{LRI}")
    await chat.send(f"отчёт{RLO}txt.exe")
    await chat.press("btn-keys-save")
    [key] = await keys_of(pool, cipher, user_id)
    assert (key.label, key.storage_note, key.company) == (
        "отчётtxt.exe", "флешка в сейфе", "ТОО Ромашка",
    )
    await chat.send("/mykeys")
    await chat.press_data(ListCb(action="ics").pack())
    await chat.send("/mydata")
    assert not any(INVISIBLE.search(s) for s in shown(session))
    assert "отчётtxt.exe" in " ".join(shown(session))
    ics, export = (r.document.data.decode() for r in session.sent(SendDocument))
    assert "txt.exe" in ics and not INVISIBLE.search(ics.replace("\r\n", ""))
    assert "txt.exe" in export and not INVISIBLE.search(export)


async def test_text_stored_before_the_fix_is_shown_clean(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock,
) -> None:
    chat = Chat(dp, bot, session, UpdateFactory(8503, "ru"), translator, "ru")
    await chat.consent()
    key = await add_key(pool, cipher, 8503, clock.now, "старый", date(2027, 3, 2))
    dirty = cipher.encrypt(f"{RLO}gpj.exe", "keys.label")
    async with pool() as s:
        await s.execute(text("UPDATE keys SET label_enc = :v WHERE id = :i"),
                        {"v": dirty, "i": key.id})
        await s.commit()
    await chat.send("/mykeys")
    await chat.send("/mydata")
    assert "gpj.exe" in " ".join(shown(session))
    assert not any(INVISIBLE.search(s) for s in shown(session))
    export = session.sent(SendDocument)[-1].document.data.decode()
    assert "gpj.exe" in export and RLO not in json.loads(export)["keys"][0]["label"]
