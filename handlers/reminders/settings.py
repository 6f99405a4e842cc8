"""/reminders: delivery days, window, time zone and the security check-up mode."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import TextFn
from bot.keyboards import InlineKeyboardBuilder, built_once
from bot.reminders.hooks import on_settings_changed, user_window
from bot.reminders.planning import (
    ACTIVITY_MODES,
    SettingsParseError,
    format_offsets,
    format_window,
    parse_offsets,
    parse_tz,
    parse_window,
)
from handlers.common import MenuCallback, personal_router, reply_to
from handlers.reminders import buttons
from storage.dto import UserDTO
from storage.repositories import Repos

TOGGLES = ("weekly_tips", "broadcasts_opt_in")


class SettingsCallback(CallbackData, prefix="remset"):
    a: str


class SettingsDialog(StatesGroup):
    offsets = State()
    window = State()
    tz = State()


def settings_view(t: TextFn, user: UserDTO) -> tuple[str, InlineKeyboardMarkup]:
    text = t(
        "reminders-settings",
        offsets=format_offsets(parse_offsets(user.expiry_offsets)),
        window=format_window(user_window(user)), tz=user.timezone,
        mode=t(f"reminders-mode-{user.activity_mode}"),
    )
    toggles = tuple(bool(getattr(user, column)) for column in TOGGLES)
    return text, settings_keyboard(t, user.activity_mode, toggles)


@built_once
def settings_keyboard(t: TextFn, mode_now: str, toggles: tuple[bool, ...]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for field in ("offsets", "window", "tz"):
        kb.button(text=t(f"btn-reminders-set-{field}"), callback_data=SettingsCallback(a=field))
    for mode in ACTIVITY_MODES:
        mark = "• " if mode == mode_now else ""
        kb.button(text=mark + t(f"btn-reminders-mode-{mode}"),
                  callback_data=SettingsCallback(a=f"mode-{mode}"))
    # Opt-outs for what admins send: the weekly tip and broadcasts (security news).
    for column, on in zip(TOGGLES, toggles, strict=True):
        kb.button(text=t(f"btn-reminders-{column}-{'on' if on else 'off'}"),
                  callback_data=SettingsCallback(a=f"toggle-{column}"))
    kb.adjust(1, 1, 1, 3, 1, 1)
    return kb.as_markup()


async def cmd_reminders(message: Message, user: UserDTO, t: TextFn) -> None:
    text, markup = settings_view(t, user)
    await message.answer(text, reply_markup=markup)


async def on_menu_reminders(query: CallbackQuery, user: UserDTO, t: TextFn) -> None:
    await query.answer()
    text, markup = settings_view(t, user)
    await reply_to(query, text, reply_markup=markup)


async def on_setting_chosen(
    query: CallbackQuery, callback_data: SettingsCallback, state: FSMContext, user: UserDTO,
    repos: Repos, t: TextFn, now: datetime,
) -> None:
    await query.answer()
    action = callback_data.a
    if action.startswith("mode-") and action[5:] in ACTIVITY_MODES:
        user = await on_settings_changed(repos, user, now, activity_mode=action[5:])
        text, markup = settings_view(t, user)
        await reply_to(query, t("reminders-saved") + "\n\n" + text, reply_markup=markup)
        return
    if action.startswith("toggle-") and action[7:] in TOGGLES:
        change: dict[str, object] = {action[7:]: not getattr(user, action[7:])}
        await repos.users.update_settings(user.id, **change)
        user = replace(user, **change)  # type: ignore[arg-type]
        text, markup = settings_view(t, user)
        await reply_to(query, t("reminders-saved") + "\n\n" + text, reply_markup=markup)
        return
    if action not in ("offsets", "window", "tz"):
        await reply_to(query, t("stale-button"))
        return
    await state.set_state(getattr(SettingsDialog, action))
    await reply_to(query, t(f"reminders-ask-{action}"))


def _parse(state_name: str | None, text: str) -> dict[str, object]:
    """The settings columns the user's answer sets; raises SettingsParseError."""
    if state_name == SettingsDialog.offsets.state:
        return {"expiry_offsets": ",".join(map(str, parse_offsets(text)))}
    if state_name == SettingsDialog.window.state:
        start, end = parse_window(text).to_minutes()
        # "0-24" comes back as 0-0 (any time); store it so, Window treats it as always open.
        return {"window_start": start, "window_end": end}
    return {"timezone": parse_tz(text)}


async def on_setting_text(
    message: Message, state: FSMContext, user: UserDTO, repos: Repos, t: TextFn, now: datetime
) -> None:
    try:
        values = _parse(await state.get_state(), message.text or "")
    except SettingsParseError as exc:
        await message.answer(t("reminders-err-" + exc.code.replace("_", "-")))
        return
    await state.clear()
    user = await on_settings_changed(repos, user, now, **values)
    text, markup = settings_view(t, user)
    await message.answer(t("reminders-saved") + "\n\n" + text, reply_markup=markup)


def build_router() -> Router:
    router = personal_router(__name__)
    router.message.register(cmd_reminders, Command("reminders"))
    router.callback_query.register(on_menu_reminders, MenuCallback.filter(F.action == "reminders"))
    router.callback_query.register(on_setting_chosen, SettingsCallback.filter())
    router.message.register(
        on_setting_text, F.text, SettingsDialog.offsets, ~F.text.startswith("/")
    )
    router.message.register(on_setting_text, F.text, SettingsDialog.window, ~F.text.startswith("/"))
    router.message.register(on_setting_text, F.text, SettingsDialog.tz, ~F.text.startswith("/"))
    router.include_router(buttons.build_router())
    return router
