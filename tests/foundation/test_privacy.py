"""/mydata exports everything decrypted; /forget deletes every row of the user."""

from __future__ import annotations

import json
from datetime import date

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import SendDocument
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from sqlalchemy import func, select

from bot.i18n import Translator
from storage.database import SessionPool
from storage.dto import KeyDraft
from storage.encryption import FieldCipher
from storage.models import Base
from storage.repositories import Repos
from tests.support.telegram import RecordingSession, UpdateFactory


def last_buttons(session: RecordingSession) -> list[str]:
    markup = session.sent()[-1].reply_markup
    assert isinstance(markup, InlineKeyboardMarkup)
    return [b.callback_data or "" for row in markup.inline_keyboard for b in row]


async def register_with_key(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    who: UpdateFactory,
    pool: SessionPool,
    cipher: FieldCipher,
    label: str,
) -> None:
    await dp.feed_update(bot, who.message("/start"))
    await dp.feed_update(bot, who.callback(last_buttons(session)[0]))
    async with pool() as s:
        repos = Repos.build(s, cipher)
        user = await repos.users.get_by_tg(who.user.id)
        assert user is not None
        await repos.keys.add(
            user.id,
            KeyDraft(
                kind="file",
                purpose="auth",
                expires_on=date(2027, 1, 1),
                label=label,
                storage_note="флешка в ящике",
            ),
            user.created_at,
        )
        await s.commit()


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_mydata_exports_decrypted_json(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    pool: SessionPool,
    cipher: FieldCipher,
    lang: str,
) -> None:
    who = UpdateFactory(3000, lang)
    await register_with_key(dp, bot, session, who, pool, cipher, "Жұмыс кілті")
    await dp.feed_update(bot, who.message("/mydata"))
    doc = session.sent(SendDocument)[-1]
    assert doc.caption == translator.get(lang, "mydata-caption")
    assert isinstance(doc.document, BufferedInputFile)
    data = json.loads(doc.document.data)
    assert data["profile"]["tg_id"] == 3000 and data["profile"]["language"] == lang
    assert data["keys"][0]["label"] == "Жұмыс кілті"
    assert data["keys"][0]["storage_note"] == "флешка в ящике"


async def test_mydata_and_forget_without_any_data(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
) -> None:
    who = UpdateFactory(3100, "kk")
    await dp.feed_update(bot, who.message("/mydata"))
    assert session.last_text() == translator.get("kk", "mydata-none")
    await dp.feed_update(bot, who.message("/forget"))
    assert session.last_text() == translator.get("kk", "forget-nothing")


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_forget_confirm_deletes_every_row(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    pool: SessionPool,
    cipher: FieldCipher,
    lang: str,
) -> None:
    who = UpdateFactory(3200, lang)
    await register_with_key(dp, bot, session, who, pool, cipher, "ключ")
    await dp.feed_update(bot, who.message("/forget"))
    assert session.last_text() == translator.get(lang, "forget-confirm", keys=1)
    yes, no = last_buttons(session)
    await dp.feed_update(bot, who.callback(no))
    assert session.last_text() == translator.get(lang, "forget-kept")
    await dp.feed_update(bot, who.callback(yes))
    assert session.last_text() == translator.get(lang, "forget-done")
    async with pool() as s:
        for table in Base.metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            n = await s.scalar(select(func.count()).select_from(table))
            assert n == 0, table.name
    # A second press of the stale confirm button is harmless.
    await dp.feed_update(bot, who.callback(yes))
    assert session.last_text() == translator.get(lang, "forget-nothing")


async def test_personal_commands_in_groups_redirect_to_private(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
) -> None:
    from aiogram.types import Chat

    who = UpdateFactory(3300, "ru")
    group = Chat(id=-100500, type="supergroup", title="Бухгалтерия")
    for command in ("/mykeys", "/mydata", "/forget", "/start"):
        await dp.feed_update(bot, who.message(command, chat=group))
        assert session.last_text() == translator.get(
            "ru", "group-private-only", bot="kilt_test_bot"
        )
        assert session.sent()[-1].chat_id == group.id
