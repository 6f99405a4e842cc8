"""Edited messages are read again: an edit that adds a password, an IIN, an SMS code or a
private key is deleted with the same warning as a new message, and an edited question gets a
fresh answer (inside a dialog, a short note: the dialog already took the first version)."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.i18n import TextFn, Translator
from bot.keys.secrets import looks_like_private_key_text, looks_like_secret
from bot.qa.service import QAService
from handlers.keys.upload import refuse_secret as refuse_private_key
from handlers.questions import GROUPS, addressed_to_bot, on_question, refuse_secret
from storage.repositories import Repos
from storage.write_behind import WriteBehind


async def on_edited_private(
    message: Message, bot: Bot, state: FSMContext, qa: QAService, repos: Repos, lang: str,
    t: TextFn, translator: Translator, now: datetime, write_behind: WriteBehind,
) -> None:
    text = message.text or message.caption or ""
    if looks_like_private_key_text(text):
        await refuse_private_key(message, t)
    elif looks_like_secret(text):
        await refuse_secret(message, t)
    elif message.text is None or message.text.startswith("/"):
        return  # an edited command or caption: nothing to do again
    elif await state.get_state() is not None:
        await message.reply(t("edited-in-dialog"))
    else:
        await on_question(message, bot, qa, repos, lang, t, translator, now, write_behind)


def build_router() -> Router:
    router = Router(name=__name__)
    router.edited_message.register(on_edited_private, F.chat.type == ChatType.PRIVATE)
    # In a group, as for new messages: only what is addressed to the bot, secrets included.
    question = F.text & ~F.text.startswith("/")
    router.edited_message.register(
        on_question, F.chat.type.in_(GROUPS), question, addressed_to_bot
    )
    return router
