"""A chat with the real dispatcher: send texts, press buttons by their label, read replies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import InlineKeyboardMarkup, Message, Update

from bot.i18n import Translator
from storage.database import SessionPool
from storage.dto import KeyDraft, KeyDTO, UserDTO
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.support.telegram import BOT_USER, RecordingSession, UpdateFactory


class Chat:
    def __init__(
        self, dp: Dispatcher, bot: Bot, session: RecordingSession, who: UpdateFactory,
        translator: Translator, lang: str,
    ) -> None:
        self.dp, self.bot, self.session, self.who = dp, bot, session, who
        self.translator, self.lang = translator, lang

    def t(self, msg_id: str, **args: Any) -> str:
        return self.translator.get(self.lang, msg_id, **args)

    async def feed(self, update: Update) -> None:
        await self.dp.feed_update(self.bot, update)

    async def send(self, text: str) -> str:
        await self.feed(self.who.message(text))
        return self.last_text()

    def last_text(self) -> str:
        """The message that changed last: a new one, or one edited in place."""
        return list(self.session.screen().values())[-1].text

    async def press_data(self, data: str, message_id: int | None = None) -> None:
        message = None if message_id is None else self.message(message_id)
        await self.feed(self.who.callback(data, message))

    def message(self, message_id: int) -> Message:
        """The bot's message `message_id` as a callback carries it (buttons sit under it)."""
        shown = self.session.screen().get(message_id)
        return Message(message_id=message_id, date=datetime.now(), chat=self.who.chat,
                       from_user=BOT_USER, text=shown.text if shown else "…")

    def buttons(self) -> list[tuple[str, str]]:
        """Buttons of the latest message that has any."""
        return self.buttons_with_message()[0]

    def buttons_with_message(self) -> tuple[list[tuple[str, str]], int]:
        for message_id, request in reversed(self.session.screen().items()):
            if isinstance(request.reply_markup, InlineKeyboardMarkup):
                rows = request.reply_markup.inline_keyboard
                return [(b.text, b.callback_data or "") for row in rows for b in row], message_id
        raise AssertionError("no message with buttons")

    def button(self, label: str) -> tuple[str, int]:
        """Callback data of the button whose text equals `label` (or a message id's text),
        and the id of the message it sits under."""
        text = self.t(label) if self.translator.has(self.lang, label) else label
        buttons, message_id = self.buttons_with_message()
        matches = [data for shown, data in buttons if shown == text]
        assert matches, f"no button {text!r} in {buttons}"
        return matches[0], message_id

    async def press(self, label: str) -> str:
        """Press the button whose text equals `label` under the message it belongs to."""
        data, message_id = self.button(label)
        await self.press_data(data, message_id)
        return self.last_text()

    def alerts(self) -> list[str]:
        return [a.text or "" for a in self.session.sent(AnswerCallbackQuery)]

    async def consent(self) -> None:
        await self.send("/start")
        await self.press("btn-consent-yes")


async def user_of(pool: SessionPool, cipher: FieldCipher, tg_id: int) -> UserDTO:
    async with pool() as s:
        user = await Repos.build(s, cipher).users.get_by_tg(tg_id)
    assert user is not None
    return user


async def keys_of(pool: SessionPool, cipher: FieldCipher, tg_id: int) -> list[KeyDTO]:
    user = await user_of(pool, cipher, tg_id)
    async with pool() as s:
        repos = Repos.build(s, cipher)
        keys = await repos.keys.list_for_user(user.id)
        return [k for k in [await repos.keys.get_owned(user.id, k.id) for k in keys] if k]


async def add_key(
    pool: SessionPool, cipher: FieldCipher, tg_id: int, now: datetime, label: str,
    expires_on: date, kind: str = "file", note: str | None = None,
) -> KeyDTO:
    user = await user_of(pool, cipher, tg_id)
    async with pool() as s:
        repos = Repos.build(s, cipher)
        draft = KeyDraft(kind=kind, purpose="auth", expires_on=expires_on, label=label,
                         issued_on=date(2025, 1, 10), storage_note=note)
        key = await repos.keys.add(user.id, draft, now)
        await s.commit()
        return key
