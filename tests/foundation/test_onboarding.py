"""/start, consent, /help, /language, /cancel through the real Dispatcher."""

from __future__ import annotations

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import Translator
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.support.telegram import RecordingSession, UpdateFactory


def buttons(session: RecordingSession) -> list[tuple[str, str]]:
    markup = session.sent()[-1].reply_markup
    assert isinstance(markup, InlineKeyboardMarkup)
    return [(b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row]


async def stored_user(pool: SessionPool, cipher: FieldCipher, tg_id: int):  # type: ignore[no-untyped-def]
    async with pool() as s:
        return await Repos.build(s, cipher).users.get_by_tg(tg_id)


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_start_greets_in_telegram_language_and_asks_consent(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    pool: SessionPool,
    cipher: FieldCipher,
    lang: str,
) -> None:
    user = UpdateFactory(user_id=5000 + len(lang), language_code=lang)
    await dp.feed_update(bot, user.message("/start"))
    text = session.last_text()
    assert text.startswith(translator.get(lang, "start-greeting"))
    assert translator.get(lang, "start-consent-ask") in text
    labels = [label for label, _ in buttons(session)]
    assert labels == [
        translator.get(lang, "btn-consent-yes"),
        translator.get(lang, "btn-consent-no"),
    ]
    # Nothing is stored before consent.
    assert await stored_user(pool, cipher, user.user.id) is None


async def test_unknown_language_code_falls_back_to_russian(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator
) -> None:
    user = UpdateFactory(user_id=6001, language_code="en")
    await dp.feed_update(bot, user.message("/start"))
    assert session.last_text().startswith(translator.get("ru", "start-greeting"))


async def test_consent_stores_user_and_shows_menu(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    pool: SessionPool,
    cipher: FieldCipher,
    kk_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, kk_user.message("/start"))
    yes = buttons(session)[0][1]
    await dp.feed_update(bot, kk_user.callback(yes))
    assert translator.get("kk", "start-consent-given") in session.last_text()
    assert [label for label, _ in buttons(session)][0] == translator.get("kk", "btn-menu-addkey")
    user = await stored_user(pool, cipher, kk_user.user.id)
    assert user is not None and user.has_consented and user.language == "kk"
    assert user.timezone == "Asia/Almaty"
    async with pool() as s:
        pending = await Repos.build(s, cipher).reminders.pending_for_user(user.id)
    assert [kind for kind, *_ in pending] == ["checkup"]  # planned at consent, not later
    await dp.feed_update(bot, kk_user.message("/start"))
    assert session.last_text() == translator.get("kk", "start-welcome-back")


async def test_declining_consent_stores_nothing(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    pool: SessionPool,
    cipher: FieldCipher,
    ru_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, ru_user.message("/start"))
    no = buttons(session)[1][1]
    await dp.feed_update(bot, ru_user.callback(no))
    assert session.last_text() == translator.get("ru", "start-consent-declined")
    assert await stored_user(pool, cipher, ru_user.user.id) is None


async def consent(dp: Dispatcher, bot: Bot, session: RecordingSession, who: UpdateFactory) -> None:
    await dp.feed_update(bot, who.message("/start"))
    await dp.feed_update(bot, who.callback(buttons(session)[0][1]))


async def test_language_switch_changes_all_later_texts(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    ru_user: UpdateFactory,
) -> None:
    await consent(dp, bot, session, ru_user)
    await dp.feed_update(bot, ru_user.message("/language"))
    assert session.last_text() == translator.get("ru", "language-choose")
    kk_button = next(data for label, data in buttons(session) if "Қазақша" in label)
    await dp.feed_update(bot, ru_user.callback(kk_button))
    assert session.last_text() == translator.get("kk", "language-set")
    await dp.feed_update(bot, ru_user.message("/help"))
    assert session.last_text() == translator.get("kk", "help-text")


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_help_in_both_languages(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator, lang: str
) -> None:
    await dp.feed_update(bot, UpdateFactory(7000, lang).message("/help"))
    assert session.last_text() == translator.get(lang, "help-text")


async def test_cancel_without_dialog(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    ru_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, ru_user.message("/cancel"))
    assert session.last_text() == translator.get("ru", "cancel-nothing")


async def test_stale_button_is_answered_politely(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    ru_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, ru_user.callback("something:from:an:old:version"))
    answer = session.requests[-1]
    assert getattr(answer, "text", None) == translator.get("ru", "stale-button")


async def test_too_long_message_is_refused(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    ru_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, ru_user.message("а" * 3000))
    assert session.last_text() == translator.get("ru", "too-long", length=3000, limit=2000)
