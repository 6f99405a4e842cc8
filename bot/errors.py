"""The global error handler: log with a correlation id, apologise, never leak a traceback."""

from __future__ import annotations

import logging
import traceback
import uuid
from typing import Any

from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.i18n import Translator, language_from_telegram
from bot.logging_setup import update_context

logger = logging.getLogger("bot.errors")


async def on_error(event: ErrorEvent, translator: Translator, **data: Any) -> bool:
    # The update's correlation id (bot.metrics.ObserveUpdates): the user quotes what the logs say.
    ref = data.get("correlation_id") or uuid.uuid4().hex[:8]
    # Exception type and stack only: messages may echo user text, so never str(exc).
    stack = "".join(traceback.format_tb(event.exception.__traceback__))
    token = update_context.set((ref, event.update.update_id))
    try:
        logger.error(
            "update %s failed [%s]: %s\n%s",
            event.update.update_id, ref, type(event.exception).__name__, stack,
        )
    finally:
        update_context.reset(token)
    lang = data.get("lang")
    user = data.get("event_from_user")
    if lang is None:
        lang = language_from_telegram(user.language_code if user else None)
    text = translator.get(lang, "error-generic", ref=ref)
    chat = data.get("event_chat")
    bot = data.get("bot")
    try:
        if event.update.callback_query is not None:
            try:
                await event.update.callback_query.answer(text, show_alert=True)
                return True
            except TelegramAPIError:
                pass  # the query was already answered: fall back to a message
        if chat is not None and bot is not None:
            await bot.send_message(chat.id, text)
    except TelegramAPIError:
        logger.warning("could not tell the user about error [%s]", ref)
    return True
