"""bot.model_init: aiogram's objects still know their bot, the way aiogram's own chain sets it."""

from __future__ import annotations

from typing import Any

from aiogram.client.context_controller import BotContextController
from aiogram.methods import Response
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    Update,
    User,
)
from pydantic import PrivateAttr

from bot.model_init import _bot_context_post_init, settle_bot_context_init

PERSON = {"id": 42, "is_bot": False, "first_name": "A"}
CHAT = {"id": 42, "type": "private"}
PRESS = {"update_id": 2, "callback_query": {
    "id": "77", "from": PERSON, "chat_instance": "1", "data": "faq:2",
    "message": {"message_id": 6, "date": 0, "chat": CHAT, "text": "menu",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "x"}]]}},
}}


class _WithOwnInit(TelegramObject):
    """A type with a post-init of its own: its chain must be left as it is."""

    _seen: int = PrivateAttr(default=0)

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        self._seen = 1


def _everything_with_a_bot(update: Update) -> list[BotContextController]:
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    markup = query.message.reply_markup
    assert markup is not None
    return [update, query, query.from_user, query.message, query.message.chat, markup,
            markup.inline_keyboard[0][0]]


def _private_state(bot: object) -> list[dict[str, Any] | None]:
    return [o.__pydantic_private__ for o in _everything_with_a_bot(
        Update.model_validate(PRESS, context={"bot": bot}))]


def test_objects_carry_the_same_private_state_as_with_aiogram_alone() -> None:
    bot = object()
    before = _private_state(bot)
    settle_bot_context_init()
    assert Message.model_post_init is _bot_context_post_init
    assert _private_state(bot) == before == [{"_bot": bot}] * 7
    settle_bot_context_init()  # a second call changes nothing
    assert _private_state(bot) == before


def test_without_a_context_and_when_built_in_code_the_bot_is_none() -> None:
    settle_bot_context_init()
    assert Update.model_validate(PRESS).callback_query.bot is None  # type: ignore[union-attr]
    built = Message(message_id=1, date=0, chat=Chat(id=1, type="private"), text="a")
    assert built.bot is None and built.chat.bot is None
    assert Message.model_construct(message_id=1).bot is None
    button = InlineKeyboardButton(text="a", callback_data="b")
    assert InlineKeyboardMarkup(inline_keyboard=[[button]]).bot is None


def test_binding_copying_and_answers_still_work() -> None:
    settle_bot_context_init()
    bot, other = object(), object()
    user = User.model_validate(PERSON, context={"bot": bot})
    assert user.bot is bot
    assert user.as_(other).bot is other  # type: ignore[arg-type]
    assert user.model_copy().bot is other
    answer = Response[Message].model_validate(
        {"ok": True, "result": {"message_id": 3, "date": 0, "chat": CHAT, "text": "a"}},
        context={"bot": bot},
    )
    assert answer.result is not None and answer.result.bot is bot
    assert answer.result.chat.bot is bot
    assert isinstance(Update.model_validate(PRESS).callback_query, CallbackQuery)


def test_a_type_with_its_own_post_init_keeps_it() -> None:
    settle_bot_context_init()
    assert _WithOwnInit.__dict__["model_post_init"] is not _bot_context_post_init
    made = _WithOwnInit.model_validate({}, context={"bot": "b"})
    assert made._seen == 1 and made.bot == "b"
