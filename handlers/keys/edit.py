"""Editing any field of a saved key and recording a renewal (the old expiry stays in history)."""

from __future__ import annotations

from datetime import date, datetime

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import TextFn
from bot.keys.validation import KINDS, default_expiry
from handlers.common import chat_of, personal_router
from handlers.keys.input import check_input
from handlers.keys.listing import after_change
from handlers.keys.ui import HOLDERS, PURPOSES, EditCb, KeyCb, fmt_date, local_today
from storage.dto import KeyDTO, UserDTO
from storage.repositories import Repos


class KeyEdit(StatesGroup):
    value = State()
    renew = State()


CHOICES = {"kind": KINDS, "holder": HOLDERS, "purpose": PURPOSES}
TEXT_FIELDS = ("label", "storage", "company", "bin", "issued", "expiry")


def fields_for(key: KeyDTO) -> list[str]:
    legal = key.holder == "legal"
    return [f for f in ("label", "storage", "kind", "purpose", "holder", "company", "bin",
                        "issued", "expiry") if legal or f not in ("company", "bin")]


def cancel_button(kb: InlineKeyboardBuilder, t: TextFn, key_id: int) -> None:
    kb.button(text=t("btn-keys-cancel"), callback_data=EditCb(key_id=key_id, field="cancel"))


async def owned_or_stale(query: CallbackQuery, repos: Repos, user: UserDTO, key_id: int,
                         t: TextFn) -> KeyDTO | None:
    key = await repos.keys.get_owned(user.id, key_id)
    if key is None:  # deleted, or a forged id
        await query.answer(t("keys-stale"), show_alert=True)
    else:
        await query.answer()
    return key


async def on_edit_menu(
    query: CallbackQuery, callback_data: KeyCb, bot: Bot, t: TextFn, repos: Repos, user: UserDTO
) -> None:
    key = await owned_or_stale(query, repos, user, callback_data.key_id, t)
    if key is None:
        return
    kb = InlineKeyboardBuilder()
    for field in fields_for(key):
        kb.button(text=t(f"btn-keys-field-{field}"), callback_data=EditCb(key_id=key.id,
                                                                          field=field))
    kb.button(text=t("btn-keys-back"), callback_data=KeyCb(action="view", key_id=key.id))
    kb.adjust(2)
    await bot.send_message(chat_of(query), t("keys-edit-which"), reply_markup=kb.as_markup())


async def on_edit_field(
    query: CallbackQuery, callback_data: EditCb, bot: Bot, state: FSMContext, t: TextFn,
    repos: Repos, user: UserDTO, now: datetime,
) -> None:
    key = await owned_or_stale(query, repos, user, callback_data.key_id, t)
    if key is None:
        return
    field, value, chat_id = callback_data.field, callback_data.value, chat_of(query)
    if field == "cancel":
        await state.clear()
        await after_change(bot, chat_id, t, repos, user, key.id, now)
    elif field in CHOICES and value in CHOICES[field]:
        await apply_choice(bot, chat_id, state, t, repos, user, key, field, value, now)
    elif field in CHOICES:
        kb = InlineKeyboardBuilder()
        for v in CHOICES[field]:
            kb.button(text=t(f"btn-keys-{field}-{v}"),
                      callback_data=EditCb(key_id=key.id, field=field, value=v))
        cancel_button(kb, t, key.id)
        kb.adjust(1)
        await bot.send_message(chat_id, t(f"keys-ask-{field}"), reply_markup=kb.as_markup())
    elif field in TEXT_FIELDS:
        await ask_text(bot, chat_id, state, t, key.id, field)


async def ask_text(
    bot: Bot, chat_id: int, state: FSMContext, t: TextFn, key_id: int, field: str
) -> None:
    await state.set_state(KeyEdit.value)
    await state.set_data({"edit_key": key_id, "edit_field": field})
    kb = InlineKeyboardBuilder()
    cancel_button(kb, t, key_id)
    await bot.send_message(chat_id, t(f"keys-edit-ask-{field}"), reply_markup=kb.as_markup())


async def apply_choice(
    bot: Bot, chat_id: int, state: FSMContext, t: TextFn, repos: Repos, user: UserDTO,
    key: KeyDTO, field: str, value: str, now: datetime,
) -> None:
    if field == "holder" and value == "individual":
        details = {k: v for k, v in (key.cert_info or {}).items() if k != "bin"}
        await repos.keys.update(user.id, key.id, now, holder=value, company=None,
                                cert_info=details or None)
    else:
        await repos.keys.update(user.id, key.id, now, **{field: value})
    if field == "holder" and value == "legal" and not key.company:
        await ask_text(bot, chat_id, state, t, key.id, "company")  # a company needs a name
        return
    await after_change(bot, chat_id, t, repos, user, key.id, now)


async def on_edit_text(
    message: Message, bot: Bot, state: FSMContext, t: TextFn, repos: Repos, user: UserDTO,
    now: datetime,
) -> None:
    data = await state.get_data()
    key = await repos.keys.get_owned(user.id, int(data.get("edit_key", 0)))
    field = str(data.get("edit_field"))
    if key is None or field not in TEXT_FIELDS:
        await state.clear()
        await message.answer(t("keys-stale"))
        return
    checked = check_input(field, message.text or "", local_today(user, now), key.issued_on)
    if checked.value is None:
        await message.answer(checked.error_text(t))
        return
    await state.clear()
    await repos.keys.update(user.id, key.id, now, **stored_value(key, field, checked.value))
    await after_change(bot, message.chat.id, t, repos, user, key.id, now)


def stored_value(key: KeyDTO, field: str, value: str) -> dict[str, object]:
    if field in ("issued", "expiry"):
        return {"issued_on" if field == "issued" else "expires_on": date.fromisoformat(value)}
    if field == "bin":
        return {"cert_info": {**(key.cert_info or {}), "bin": value}}
    return {"storage_note" if field == "storage" else field: value}


async def on_renew(
    query: CallbackQuery, callback_data: KeyCb, bot: Bot, state: FSMContext, t: TextFn,
    repos: Repos, user: UserDTO, now: datetime,
) -> None:
    key = await owned_or_stale(query, repos, user, callback_data.key_id, t)
    if key is None:
        return
    if callback_data.action == "renewok":
        await renew(bot, chat_of(query), state, t, repos, user, key,
                    default_expiry(key.kind, local_today(user, now)), now)
        return
    proposal = default_expiry(key.kind, local_today(user, now))
    await state.set_state(KeyEdit.renew)
    await state.set_data({"edit_key": key.id})
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn-keys-expiry_ok", date=fmt_date(proposal)),
              callback_data=KeyCb(action="renewok", key_id=key.id))
    cancel_button(kb, t, key.id)
    kb.adjust(1)
    await bot.send_message(chat_of(query), t("keys-renew-ask", date=fmt_date(proposal)),
                           reply_markup=kb.as_markup())


async def on_renew_text(
    message: Message, bot: Bot, state: FSMContext, t: TextFn, repos: Repos, user: UserDTO,
    now: datetime,
) -> None:
    data = await state.get_data()
    key = await repos.keys.get_owned(user.id, int(data.get("edit_key", 0)))
    if key is None:
        await state.clear()
        await message.answer(t("keys-stale"))
        return
    today = local_today(user, now)
    checked = check_input("expiry", message.text or "", today, today)
    if checked.value is None:
        await message.answer(checked.error_text(t))
        return
    await renew(bot, message.chat.id, state, t, repos, user, key,
                date.fromisoformat(checked.value), now)


async def renew(
    bot: Bot, chat_id: int, state: FSMContext, t: TextFn, repos: Repos, user: UserDTO,
    key: KeyDTO, new_expiry: date, now: datetime,
) -> None:
    await state.clear()
    # A renewal is a re-issue: the new certificate starts today.
    await repos.keys.renew(user.id, key.id, new_expiry, now, issued_on=local_today(user, now))
    await bot.send_message(chat_id, t("keys-renewed", date=fmt_date(new_expiry)))
    await after_change(bot, chat_id, t, repos, user, key.id, now)


def build_router() -> Router:
    router = personal_router(__name__)
    router.callback_query.register(on_edit_menu, KeyCb.filter(F.action == "edit"))
    router.callback_query.register(on_edit_field, EditCb.filter())
    router.callback_query.register(on_renew, KeyCb.filter(F.action.in_({"renew", "renewok"})))
    text = (F.text, ~F.text.startswith("/"))
    router.message.register(on_edit_text, StateFilter(KeyEdit.value), *text)
    router.message.register(on_renew_text, StateFilter(KeyEdit.renew), *text)
    return router
