"""Pieces several feature routers share: the main menu and the consent gate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject

from bot.i18n import TextFn
from bot.keyboards import InlineKeyboardBuilder, built_once
from bot.keys.service import Tap

MENU_ACTIONS = ("addkey", "mykeys", "reminders", "faq", "language")


class MenuCallback(CallbackData, prefix="menu"):
    action: str


@built_once
def main_menu(t: TextFn) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for action in MENU_ACTIONS:
        kb.button(text=t(f"btn-menu-{action}"), callback_data=MenuCallback(action=action))
    kb.adjust(2, 2, 1)
    return kb.as_markup()


class RequireConsent(BaseMiddleware):
    """Personal features need a registered user who agreed to storage."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("user")
        if user is not None and user.has_consented:
            return await handler(event, data)
        text = data["t"]("consent-required")
        if isinstance(event, Message):
            await event.answer(text)
        elif isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        return None


def personal_router(name: str) -> Router:
    """A router for private chats only, whose handlers run only after consent."""
    router = Router(name=name)
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    router.message.middleware(RequireConsent())
    router.callback_query.middleware(RequireConsent())
    return router


def chat_of(query: CallbackQuery) -> int:
    """The chat where the pressed button was (the user's private chat if it is gone)."""
    return query.message.chat.id if query.message else query.from_user.id


async def reply_to(query: CallbackQuery, text: str, **kwargs: Any) -> None:
    """Answer a button press with a new message in the chat where the button was."""
    assert query.bot is not None
    await query.bot.send_message(chat_of(query), text, **kwargs)


def tap_of(query: CallbackQuery, action: str) -> Tap:
    """This press as an idempotency key: the message under which the button sits, and the
    action. Pressing the same button again gives the same key; any other button another."""
    if query.message is None:  # a button under an inline-mode message
        return Tap(query.from_user.id, query.inline_message_id or query.id, action)
    return Tap(query.message.chat.id, query.message.message_id, action)


async def show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Put `text` in place of the pressed message (a card changes, it is not copied); send it
    anew only when that message cannot be edited any more."""
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as e:
            if "not modified" in str(e):  # the same text again: nothing to do
                return
    await reply_to(query, text, reply_markup=markup)


async def delete_quietly(message: Message) -> bool:
    """Delete a user's message that must not stay in the chat; False if Telegram refused
    (older than 48 h, already gone, or no rights in a group)."""
    try:
        await message.delete()
    except TelegramBadRequest:
        return False
    return True
