"""/mykeys: the list with countdowns, one card per key, quick actions and the .ics export."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import TextFn
from bot.reminders.calendar import CalendarKey, build_ics
from bot.reminders.hooks import on_key_deleted, on_key_saved
from handlers.common import MenuCallback, chat_of, personal_router
from handlers.keys.add import start_dialog
from handlers.keys.ui import (
    PAGE_SIZE,
    KeyCb,
    ListCb,
    esc,
    fmt_date,
    key_keyboard,
    key_lines,
    status_icon,
    status_text,
)
from storage.dto import KeyDTO, UserDTO
from storage.repositories import Repos


def list_view(
    t: TextFn, keys: list[KeyDTO], page: int, now: datetime, tz: str
) -> tuple[str, InlineKeyboardMarkup]:
    pages = max(1, -(-len(keys) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    chunk = keys[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [t("keys-list-title", count=len(keys))]
    kb = InlineKeyboardBuilder()
    for n, key in enumerate(chunk, start=page * PAGE_SIZE + 1):
        icon = status_icon(key.expires_on, now, tz)
        lines.append(f"{n}. {icon} <b>{esc(key.label)}</b> — {fmt_date(key.expires_on)}, "
                     + status_text(t, key.expires_on, now, tz))
        kb.button(text=f"{n}. {key.label[:40]}", callback_data=KeyCb(action="view",
                                                                     key_id=key.id, page=page))
    sizes = [1] * len(chunk)
    if pages > 1:
        lines.append(t("keys-list-page", page=page + 1, pages=pages))
        kb.button(text="◀️", callback_data=ListCb(action="page", page=(page - 1) % pages))
        kb.button(text="▶️", callback_data=ListCb(action="page", page=(page + 1) % pages))
        sizes.append(2)
    kb.button(text=t("btn-menu-addkey"), callback_data=ListCb(action="add"))
    kb.button(text=t("btn-keys-ics"), callback_data=ListCb(action="ics"))
    kb.adjust(*sizes, 2)
    return "\n".join(lines), kb.as_markup()


async def send_list(
    bot: Bot, chat_id: int, t: TextFn, repos: Repos, user: UserDTO, now: datetime, page: int = 0
) -> None:
    keys = await repos.keys.list_for_user(user.id)  # sorted by expiry
    if not keys:
        kb = InlineKeyboardBuilder()
        kb.button(text=t("btn-menu-addkey"), callback_data=ListCb(action="add"))
        await bot.send_message(chat_id, t("keys-list-empty"), reply_markup=kb.as_markup())
        return
    text, markup = list_view(t, keys, page, now, user.timezone)
    await bot.send_message(chat_id, text, reply_markup=markup)


async def cmd_mykeys(
    message: Message, bot: Bot, t: TextFn, repos: Repos, user: UserDTO, now: datetime
) -> None:
    await send_list(bot, message.chat.id, t, repos, user, now)


async def on_menu_mykeys(
    query: CallbackQuery, bot: Bot, t: TextFn, repos: Repos, user: UserDTO, now: datetime
) -> None:
    await query.answer()
    await send_list(bot, chat_of(query), t, repos, user, now)


async def on_list(
    query: CallbackQuery, callback_data: ListCb, bot: Bot, state: FSMContext, t: TextFn,
    repos: Repos, user: UserDTO, now: datetime, lang: str,
) -> None:
    await query.answer()
    if callback_data.action == "add":
        await start_dialog(bot, chat_of(query), state, t, repos, user)
    elif callback_data.action == "ics":
        await send_ics(bot, chat_of(query), t, repos, user, now, lang)
    else:
        await send_list(bot, chat_of(query), t, repos, user, now, callback_data.page)


async def send_ics(
    bot: Bot, chat_id: int, t: TextFn, repos: Repos, user: UserDTO, now: datetime, lang: str
) -> None:
    keys = await repos.keys.list_for_user(user.id)
    if not keys:
        await bot.send_message(chat_id, t("keys-list-empty"))
        return
    # Only the label goes into the calendar: calendars sync to third-party clouds.
    entries = [CalendarKey(k.id, t("keys-ics-title", label=k.label), k.expires_on,
                           t("keys-ics-description")) for k in keys]
    payload = build_ics(entries, lang=cast(Literal["kk", "ru"], lang), now=now,
                        calendar_name=t("keys-ics-calendar"))
    await bot.send_document(chat_id, BufferedInputFile(payload, filename="kilt-keys.ics"),
                            caption=t("keys-ics-caption"))


async def on_key(
    query: CallbackQuery, callback_data: KeyCb, bot: Bot, t: TextFn, repos: Repos,
    user: UserDTO, now: datetime,
) -> None:
    key = await repos.keys.get_owned(user.id, callback_data.key_id)
    if key is None:  # deleted, or someone else's id in forged callback data
        await query.answer(t("keys-stale"), show_alert=True)
        return
    action, chat_id = callback_data.action, chat_of(query)
    if action == "used":
        await repos.keys.mark_used(user.id, key.id, now)
        await query.answer(t("keys-used-noted"))
    elif action in ("stop", "resume"):
        await repos.keys.update(user.id, key.id, now, reminders_stopped=action == "stop")
        await query.answer(t("keys-reminders-stopped" if action == "stop" else
                             "keys-reminders-resumed"))
    elif action == "where":
        await query.answer()
        note = esc(key.storage_note) if key.storage_note else t("keys-where-none")
        await bot.send_message(chat_id, t("keys-where", label=esc(key.label), note=note))
        return
    else:
        await query.answer()
        await show_card(bot, chat_id, t, key, now, user.timezone, callback_data.page)
        return
    await after_change(bot, chat_id, t, repos, user, key.id, now, callback_data.page)


async def after_change(
    bot: Bot, chat_id: int, t: TextFn, repos: Repos, user: UserDTO, key_id: int,
    now: datetime, page: int = 0,
) -> None:
    """Re-read the key, re-plan its reminders at once and show the fresh card."""
    key = await repos.keys.get_owned(user.id, key_id)
    if key is None:
        return
    await on_key_saved(repos, user, key, now)
    await show_card(bot, chat_id, t, key, now, user.timezone, page)


async def show_card(
    bot: Bot, chat_id: int, t: TextFn, key: KeyDTO, now: datetime, tz: str, page: int
) -> None:
    await bot.send_message(chat_id, "\n".join(key_lines(t, key, now, tz)),
                           reply_markup=key_keyboard(t, key, page))


async def on_delete(
    query: CallbackQuery, callback_data: KeyCb, bot: Bot, t: TextFn, repos: Repos, user: UserDTO,
) -> None:
    key = await repos.keys.get_owned(user.id, callback_data.key_id)
    if key is None:
        await query.answer(t("keys-stale"), show_alert=True)
        return
    await query.answer()
    if callback_data.action == "del":
        kb = InlineKeyboardBuilder()
        kb.button(text=t("btn-keys-delete-yes"), callback_data=KeyCb(action="delok", key_id=key.id))
        kb.button(text=t("btn-keys-delete-no"), callback_data=KeyCb(action="view", key_id=key.id,
                                                                    page=callback_data.page))
        text = t("keys-delete-confirm", label=esc(key.label))
        await bot.send_message(chat_of(query), text, reply_markup=kb.as_markup())
        return
    await repos.keys.delete(user.id, key.id)
    await on_key_deleted(repos, key.id)
    await bot.send_message(chat_of(query), t("keys-deleted", label=esc(key.label)))


def build_router() -> Router:
    router = personal_router(__name__)
    router.message.register(cmd_mykeys, Command("mykeys"))
    router.callback_query.register(on_menu_mykeys, MenuCallback.filter(F.action == "mykeys"))
    router.callback_query.register(on_list, ListCb.filter())
    router.callback_query.register(on_delete, KeyCb.filter(F.action.in_({"del", "delok"})))
    router.callback_query.register(
        on_key, KeyCb.filter(F.action.in_({"view", "used", "where", "stop", "resume"}))
    )
    return router
