"""Edited messages are seen: secrets added by an edit are deleted, questions answered again."""

from __future__ import annotations

import itertools
import time

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import DeleteMessage, GetMe, SendMessage
from aiogram.types import Chat, InlineKeyboardMarkup, MessageEntity, Update

from bot.i18n import Translator
from bot.qa.service import build_service
from tests.keys_flow.flow import Chat as Dialog
from tests.support.telegram import RecordingSession, UpdateFactory

QA = build_service()
_ids = itertools.count(900_000)
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


def edited(original: Update, text: str) -> Update:
    """The same message (same id, chat and sender) after the user edited it."""
    assert original.message is not None
    changed = original.message.model_copy(update={"text": text, "edit_date": int(time.time())})
    return Update(update_id=next(_ids), edited_message=changed)


def deleted_ids(session: RecordingSession) -> list[int]:
    return [int(r.message_id) for r in session.sent(DeleteMessage)]


@pytest.mark.parametrize(
    ("secret", "warning"),
    [
        ("а пароль от ключа Qwerty2024", "questions-secret-warning"),
        ("мой ИИН 850101300012, помогите", "questions-secret-warning"),
        ("пришёл смс код 483920", "questions-secret-warning"),
        (PEM, "keys-secret-refused"),
    ],
)
async def test_edit_that_adds_a_secret_is_deleted_with_the_usual_warning(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    ru_user: UpdateFactory, secret: str, warning: str,
) -> None:
    first = ru_user.message("как продлить эцп?")
    await dp.feed_update(bot, first)
    assert session.last_text() == QA.kb.text("renew", "ru").answer
    assert first.message is not None
    await dp.feed_update(bot, edited(first, secret))
    assert deleted_ids(session) == [first.message.message_id]
    assert session.last_text() == translator.get("ru", warning)


async def test_edited_question_gets_a_fresh_answer(
    dp: Dispatcher, bot: Bot, session: RecordingSession, kk_user: UpdateFactory
) -> None:
    first = kk_user.message("эцк мерзимин калай узартамын")
    await dp.feed_update(bot, first)
    assert session.last_text() == QA.kb.text("renew", "kk").answer
    await dp.feed_update(bot, edited(first, "флешка жогалды ишинде эцк бар еди"))
    assert session.last_text() == QA.kb.text("lost-or-stolen", "kk").answer
    markup = session.sent(SendMessage)[-1].reply_markup
    assert isinstance(markup, InlineKeyboardMarkup)  # votes and related topics, as for new
    assert not deleted_ids(session)


async def test_edit_inside_a_dialog_gets_a_short_note(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
) -> None:
    who = UpdateFactory(8701, "kk")
    chat = Dialog(dp, bot, session, who, translator, "kk")
    await chat.consent()
    await chat.send("/addkey")
    for button in ("btn-keys-kind-file", "btn-keys-holder-individual", "btn-keys-purpose-auth",
                   "btn-keys-today"):
        await chat.press(button)
    await chat.press(chat.buttons()[0][0])
    note = who.message("көк флешкада")
    await dp.feed_update(bot, note)
    assert session.last_text() == translator.get("kk", "keys-ask-label")
    await dp.feed_update(bot, edited(note, "сейфтегі көк флешкада"))
    assert session.last_text() == translator.get("kk", "edited-in-dialog")
    await dp.feed_update(bot, edited(note, "сейфте, құпиясөзі Qwerty2024"))
    assert session.last_text() == translator.get("kk", "questions-secret-warning")
    assert note.message is not None and deleted_ids(session) == [note.message.message_id]


async def test_edited_command_and_unaddressed_group_edit_are_ignored(
    dp: Dispatcher, bot: Bot, session: RecordingSession, ru_user: UpdateFactory
) -> None:
    command = ru_user.message("/help")
    await dp.feed_update(bot, command)
    session.clear()
    await dp.feed_update(bot, edited(command, "/help"))
    group = Chat(id=-100779, type="supergroup", title="Офис")
    chatter = ru_user.message("как продлить эцп?", chat=group)
    await dp.feed_update(bot, edited(chatter, "как продлить эцп онлайн?"))
    assert [r for r in session.requests if not isinstance(r, GetMe)] == []
    text = "@kilt_test_bot как продлить эцп?"
    mention = [MessageEntity(type="mention", offset=0, length=len("@kilt_test_bot"))]
    asked = ru_user.message("@kilt_test_bot привет", chat=group, entities=mention)
    await dp.feed_update(bot, edited(asked, text))
    assert session.last_text() == QA.kb.text("renew", "ru").answer


def test_polling_asks_telegram_for_edits_and_membership(dp: Dispatcher) -> None:
    used = set(dp.resolve_used_update_types())
    assert {"message", "callback_query", "edited_message", "my_chat_member"} <= used
