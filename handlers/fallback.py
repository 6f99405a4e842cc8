"""Private messages nobody else handled: stickers, photos, voice… get a polite hint."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from bot.i18n import TextFn


async def on_unsupported(message: Message, t: TextFn) -> None:
    await message.answer(t("unsupported-content"))


async def on_stale_button(query: CallbackQuery, t: TextFn) -> None:
    """Buttons from old versions or deleted things: say so instead of spinning forever."""
    await query.answer(t("stale-button"), show_alert=True)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_unsupported, F.chat.type == ChatType.PRIVATE)
    router.callback_query.register(on_stale_button)
    return router
