"""/mykeys: the list with countdowns, one card per key, quick actions and the .ics export."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import TextFn
from bot.keyboards import InlineKeyboardBuilder
from bot.keys.service import KeyService, Outcome
from bot.reminders.calendar import CalendarKey, build_ics
from handlers.common import MenuCallback, chat_of, personal_router, show
from handlers.keys.add import start_dialog
from handlers.keys.ui import (
    PAGE_SIZE,
    KeyCb,
    ListCb,
    answer_missing,
    card,
    esc,
    fmt_date,
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


async def list_screen(
    t: TextFn, repos: Repos, user: UserDTO, now: datetime, page: int = 0
) -> tuple[str, InlineKeyboardMarkup]:
    keys = await repos.keys.list_for_user(user.id)  # sorted by expiry
    if keys:
        return list_view(t, keys, page, now, user.timezone)
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn-menu-addkey"), callback_data=ListCb(action="add"))
    return t("keys-list-empty"), kb.as_markup()


async def send_list(
    bot: Bot, chat_id: int, t: TextFn, repos: Repos, user: UserDTO, now: datetime
) -> None:
    text, markup = await list_screen(t, repos, user, now)
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
    else:  # a page of the list, in place of the card or page it was opened from
        await show(query, *await list_screen(t, repos, user, now, callback_data.page))


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


ALREADY = {"used": "keys-used-already", "stop": "keys-reminders-already-stopped",
           "resume": "keys-reminders-already-resumed", "delok": "keys-already-deleted"}
DONE = {"used": "keys-used-noted", "stop": "keys-reminders-stopped",
        "resume": "keys-reminders-resumed"}


async def on_key(
    query: CallbackQuery, callback_data: KeyCb, bot: Bot, t: TextFn, repos: Repos,
    user: UserDTO, now: datetime,
) -> None:
    keys, action, key_id = KeyService(repos), callback_data.action, callback_data.key_id
    if action == "used":
        change = await keys.mark_used(user, key_id, now)
    elif action in ("stop", "resume"):
        change = await keys.set_reminders(user, key_id, now, stopped=action == "stop")
    else:
        change = await keys.find(user, key_id)
    if change.key is None:
        await answer_missing(query, t, change.outcome)
    elif change.outcome is Outcome.ALREADY:
        await query.answer(t(ALREADY[action]))
    elif action == "where":
        await query.answer()
        key = change.key
        note = esc(key.storage_note) if key.storage_note else t("keys-where-none")
        await bot.send_message(chat_of(query), t("keys-where", label=esc(key.label), note=note))
    else:
        await query.answer(t(DONE[action]) if action in DONE else None)
        await show(query, *card(t, change.key, now, user.timezone, callback_data.page))


async def on_delete(
    query: CallbackQuery, callback_data: KeyCb, t: TextFn, repos: Repos, user: UserDTO,
    now: datetime,
) -> None:
    keys = KeyService(repos)
    if callback_data.action == "del":
        found = await keys.find(user, callback_data.key_id)
        if found.key is None:
            await answer_missing(query, t, found.outcome)
            return
        await query.answer()
        await show(query, t("keys-delete-confirm", label=esc(found.key.label)),
                   delete_keyboard(t, found.key.id, callback_data.page))
        return
    change = await keys.delete(user, callback_data.key_id, now)
    if change.outcome is Outcome.STALE:
        await answer_missing(query, t, change.outcome)
    elif change.key is None:
        await query.answer(t(ALREADY["delok"]))
    else:
        await query.answer()
        await show(query, t("keys-deleted", label=esc(change.key.label)))


def delete_keyboard(t: TextFn, key_id: int, page: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn-keys-delete-yes"), callback_data=KeyCb(action="delok", key_id=key_id))
    kb.button(text=t("btn-keys-delete-no"), callback_data=KeyCb(action="view", key_id=key_id,
                                                                page=page))
    return kb.as_markup()


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
