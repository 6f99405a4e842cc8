"""A recording Bot API session and factories for real aiogram Update objects."""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetFile,
    GetMe,
    SendDocument,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import (
    CallbackQuery,
    Chat,
    Document,
    File,
    Message,
    MessageEntity,
    Update,
    User,
)

from bot.concurrency import commit_before_send

TOKEN = "4242:TEST-token-for-recorded-sessions-only"
BOT_USER = User(id=4242, is_bot=True, first_name="Kilt", username="kilt_test_bot")

FailFn = Callable[[TelegramMethod[Any]], Exception | None]


class RecordingSession(BaseSession):
    """Records every method the bot calls and answers like Telegram would."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.failures: list[FailFn] = []
        self._ids = itertools.count(1000)
        # Contents of files users "sent", by file_id: GetFile + download serve them.
        self.files: dict[str, bytes] = {}
        # What the chat shows, in the order it changed: (message id, SendMessage or the
        # EditMessageText that replaced its text). Edits in place keep the message id.
        self.shown: list[tuple[int, SendMessage | EditMessageText]] = []

    async def close(self) -> None:
        return None

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        for fail in list(self.failures):
            error = fail(method)
            if error is not None:
                raise error
        self.requests.append(method)
        result = self._result(method)
        if isinstance(method, SendMessage):
            self.shown.append((result.message_id, method))
        elif isinstance(method, EditMessageText):
            self.shown.append((int(method.message_id or 0), method))
        return result

    async def stream_content(
        self, url: str, *args: Any, **kwargs: Any
    ) -> AsyncGenerator[bytes, None]:
        # The file path GetFile answered is "files/<file_id>"; the URL ends with it.
        file_id = url.rsplit("/files/", 1)[-1]
        yield self.files[file_id]

    def _result(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, GetFile):
            data = self.files.get(method.file_id, b"")
            return File(
                file_id=method.file_id,
                file_unique_id=f"u-{method.file_id}",
                file_size=len(data),
                file_path=f"files/{method.file_id}",
            )
        if isinstance(method, SendMessage | SendDocument | EditMessageText):
            chat_id = int(method.chat_id or 0)
            return Message(
                message_id=next(self._ids),
                date=datetime.now(),
                chat=Chat(id=chat_id, type="private"),
                from_user=BOT_USER,
                text=getattr(method, "text", None),
                caption=getattr(method, "caption", None),
            )
        if isinstance(method, AnswerCallbackQuery | DeleteMessage | EditMessageReplyMarkup):
            return True
        return True

    # Convenience views for assertions.
    def sent(self, kind: type[TelegramMethod[Any]] = SendMessage) -> list[Any]:
        return [r for r in self.requests if isinstance(r, kind)]

    def texts(self) -> list[str]:
        return [r.text for r in self.sent(SendMessage)]

    def last_text(self) -> str:
        return self.texts()[-1]

    def screen(self) -> dict[int, SendMessage | EditMessageText]:
        """Each message's current text and buttons, the most recently changed last."""
        current: dict[int, SendMessage | EditMessageText] = {}
        for message_id, method in self.shown:
            current.pop(message_id, None)
            current[message_id] = method
        return current

    def clear(self) -> None:
        self.requests.clear()
        self.shown.clear()


def make_bot() -> Bot:
    return commit_before_send(Bot(
        TOKEN,
        session=RecordingSession(),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    ))


class UpdateFactory:
    """Builds Telegram-shaped updates for one simulated person."""

    _update_ids = itertools.count(1)
    _message_ids = itertools.count(1)

    def __init__(self, user_id: int = 1001, language_code: str | None = "ru") -> None:
        self.user = User(
            id=user_id, is_bot=False, first_name="Айгерим", language_code=language_code
        )
        self.chat = Chat(id=user_id, type="private", first_name="Айгерим")

    def message(self, text: str | None = None, chat: Chat | None = None, **extra: Any) -> Update:
        entities = None
        if text and text.startswith("/"):
            command = text.split()[0]
            entities = [MessageEntity(type="bot_command", offset=0, length=len(command))]
        entities = extra.pop("entities", entities)
        msg = Message(
            message_id=next(self._message_ids),
            date=datetime.now(),
            chat=chat or self.chat,
            from_user=self.user,
            text=text,
            entities=entities,
            **extra,
        )
        return Update(update_id=next(self._update_ids), message=msg)

    def document(self, file_name: str, mime_type: str | None = None, size: int = 1000) -> Update:
        doc = Document(
            file_id=f"file-{file_name}",
            file_unique_id=f"u-{file_name}",
            file_name=file_name,
            mime_type=mime_type,
            file_size=size,
        )
        return self.message(document=doc)

    def callback(self, data: str, message: Message | None = None) -> Update:
        msg = message or Message(
            message_id=next(self._message_ids),
            date=datetime.now(),
            chat=self.chat,
            from_user=BOT_USER,
            text="…",
        )
        query = CallbackQuery(
            id=str(next(self._update_ids)),
            from_user=self.user,
            chat_instance="ci",
            message=msg,
            data=data,
        )
        return Update(update_id=next(self._update_ids), callback_query=query)
