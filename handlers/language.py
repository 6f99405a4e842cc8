"""/language: switch between Kazakh and Russian at any time."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import LANGUAGES, TextFn, Translator
from bot.keyboards import InlineKeyboardBuilder, built_once
from handlers.common import MenuCallback, main_menu, reply_to
from storage.dto import UserDTO
from storage.repositories import Repos


class LanguageCallback(CallbackData, prefix="lang"):
    code: str


@built_once
def language_keyboard(t: TextFn) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in LANGUAGES:
        kb.button(text=t(f"btn-lang-{code}"), callback_data=LanguageCallback(code=code))
    return kb.as_markup()


async def cmd_language(message: Message, t: TextFn) -> None:
    await message.answer(t("language-choose"), reply_markup=language_keyboard(t))


async def on_menu_language(query: CallbackQuery, t: TextFn) -> None:
    await query.answer()
    await reply_to(query, t("language-choose"), reply_markup=language_keyboard(t))


async def on_language_chosen(
    query: CallbackQuery,
    callback_data: LanguageCallback,
    user: UserDTO | None,
    repos: Repos,
    translator: Translator,
) -> None:
    code = callback_data.code if callback_data.code in LANGUAGES else "ru"
    # Without consent nothing is stored: the choice applies to this reply only,
    # later messages follow Telegram's language until the user agrees to storage.
    if user is not None:
        await repos.users.update_settings(user.id, language=code)
    t = translator.for_lang(code)
    await query.answer()
    markup = main_menu(t) if user is not None and user.has_consented else None
    await reply_to(query, t("language-set"), reply_markup=markup)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_language, Command("language"))
    router.callback_query.register(on_menu_language, MenuCallback.filter(F.action == "language"))
    router.callback_query.register(on_language_chosen, LanguageCallback.filter())
    return router
