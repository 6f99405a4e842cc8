"""/start with consent, /help and the main menu."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.config import Settings
from bot.i18n import TextFn
from bot.keyboards import InlineKeyboardBuilder, built_once
from bot.reminders.hooks import plan_user_checkup
from handlers.common import main_menu, reply_to
from storage.dto import UserDTO
from storage.repositories import Repos


class ConsentCallback(CallbackData, prefix="consent"):
    agree: bool


@built_once
def consent_keyboard(t: TextFn) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn-consent-yes"), callback_data=ConsentCallback(agree=True))
    kb.button(text=t("btn-consent-no"), callback_data=ConsentCallback(agree=False))
    return kb.as_markup()


async def cmd_start(message: Message, user: UserDTO | None, t: TextFn) -> None:
    if user is not None and user.has_consented:
        await message.answer(t("start-welcome-back"), reply_markup=main_menu(t))
        return
    text = "\n\n".join(
        [t("start-greeting"), t("start-about"), t("start-not-official"), t("start-consent-ask")]
    )
    await message.answer(text, reply_markup=consent_keyboard(t))


async def on_consent(
    query: CallbackQuery,
    callback_data: ConsentCallback,
    user: UserDTO | None,
    repos: Repos,
    lang: str,
    t: TextFn,
    settings: Settings,
    now: datetime,
) -> None:
    await query.answer()
    if not callback_data.agree:
        await reply_to(query, t("start-consent-declined"))
        return
    if user is None:
        user = await repos.users.create(query.from_user.id, lang, settings.bot_timezone, now, True)
        await plan_user_checkup(repos, user, now)  # the periodic security check-up starts now
    elif not user.has_consented:
        await repos.users.update_settings(user.id, consent_at=now)
        await plan_user_checkup(repos, user, now)
    text = t("start-consent-given") + "\n\n" + t("menu-title")
    await reply_to(query, text, reply_markup=main_menu(t))


async def cmd_help(message: Message, t: TextFn) -> None:
    await message.answer(t("help-text"))


async def cmd_cancel(message: Message, state: FSMContext, user: UserDTO | None, t: TextFn) -> None:
    had_dialog = await state.get_state() is not None
    await state.clear()
    markup = main_menu(t) if user is not None and user.has_consented else None
    await message.answer(t("cancel-done" if had_dialog else "cancel-nothing"), reply_markup=markup)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_cancel, Command("cancel"))
    router.callback_query.register(on_consent, ConsentCallback.filter())
    return router
