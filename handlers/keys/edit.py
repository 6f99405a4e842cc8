"""Editing any field of a saved key, in place of its card."""

from __future__ import annotations

from datetime import date, datetime

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.i18n import TextFn
from bot.keyboards import InlineKeyboardBuilder
from bot.keys.kinds import CHOICES, KeyHolder
from bot.keys.service import KeyService, local_today
from handlers.common import personal_router, show
from handlers.keys.input import check_input
from handlers.keys.ui import EditCb, KeyCb, answer_missing, card
from storage.dto import KeyDTO, UserDTO
from storage.repositories import Repos


class KeyEdit(StatesGroup):
    value = State()


TEXT_FIELDS = ("label", "storage", "company", "bin", "issued", "expiry")


def fields_for(key: KeyDTO) -> list[str]:
    legal = key.holder == KeyHolder.LEGAL
    return [f for f in ("label", "storage", "kind", "purpose", "holder", "company", "bin",
                        "issued", "expiry") if legal or f not in ("company", "bin")]


def cancel_button(kb: InlineKeyboardBuilder, t: TextFn, key_id: int) -> None:
    kb.button(text=t("btn-keys-cancel"), callback_data=EditCb(key_id=key_id, field="cancel"))


async def found(query: CallbackQuery, t: TextFn, repos: Repos, user: UserDTO,
                key_id: int) -> KeyDTO | None:
    """The caller's key, with the press answered; None (and an alert) if it is not there."""
    result = await KeyService(repos).find(user, key_id)
    if result.key is None:
        await answer_missing(query, t, result.outcome)
    else:
        await query.answer()
    return result.key


async def on_edit_menu(
    query: CallbackQuery, callback_data: KeyCb, t: TextFn, repos: Repos, user: UserDTO
) -> None:
    key = await found(query, t, repos, user, callback_data.key_id)
    if key is None:
        return
    kb = InlineKeyboardBuilder()
    for field in fields_for(key):
        kb.button(text=t(f"btn-keys-field-{field}"), callback_data=EditCb(key_id=key.id,
                                                                          field=field))
    kb.button(text=t("btn-keys-back"), callback_data=KeyCb(action="view", key_id=key.id))
    kb.adjust(2)
    await show(query, t("keys-edit-which"), kb.as_markup())


async def on_edit_field(
    query: CallbackQuery, callback_data: EditCb, state: FSMContext, t: TextFn,
    repos: Repos, user: UserDTO, now: datetime,
) -> None:
    key = await found(query, t, repos, user, callback_data.key_id)
    if key is None:
        return
    field, value = callback_data.field, callback_data.value
    if field == "cancel":
        await state.clear()
        await show(query, *card(t, key, now, user.timezone))
    elif field in CHOICES and value in CHOICES[field]:
        change = await KeyService(repos).edit(user, key.id, now, **{field: value})
        if change.key is not None and field == "holder" and value == KeyHolder.LEGAL \
                and not change.key.company:
            await ask_text(query, state, t, key.id, "company")  # a company needs a name
        elif change.key is not None:
            await show(query, *card(t, change.key, now, user.timezone))
    elif field in CHOICES:
        kb = InlineKeyboardBuilder()
        for v in CHOICES[field]:
            kb.button(text=t(f"btn-keys-{field}-{v}"),
                      callback_data=EditCb(key_id=key.id, field=field, value=v))
        cancel_button(kb, t, key.id)
        kb.adjust(1)
        await show(query, t(f"keys-ask-{field}"), kb.as_markup())
    elif field in TEXT_FIELDS:
        await ask_text(query, state, t, key.id, field)


async def ask_text(
    query: CallbackQuery, state: FSMContext, t: TextFn, key_id: int, field: str
) -> None:
    await state.set_state(KeyEdit.value)
    await state.set_data({"edit_key": key_id, "edit_field": field})
    kb = InlineKeyboardBuilder()
    cancel_button(kb, t, key_id)
    await show(query, t(f"keys-edit-ask-{field}"), kb.as_markup())


async def on_edit_text(
    message: Message, bot: Bot, state: FSMContext, t: TextFn, repos: Repos, user: UserDTO,
    now: datetime,
) -> None:
    data = await state.get_data()
    key = (await KeyService(repos).find(user, int(data.get("edit_key", 0)))).key
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
    change = await KeyService(repos).edit(user, key.id, now,
                                          **stored_value(key, field, checked.value))
    if change.key is None:
        await message.answer(t("keys-stale"))
        return
    text, markup = card(t, change.key, now, user.timezone)
    await bot.send_message(message.chat.id, text, reply_markup=markup)


def stored_value(key: KeyDTO, field: str, value: str) -> dict[str, object]:
    if field in ("issued", "expiry"):
        return {"issued_on" if field == "issued" else "expires_on": date.fromisoformat(value)}
    if field == "bin":
        return {"cert_info": {**(key.cert_info or {}), "bin": value}}
    return {"storage_note" if field == "storage" else field: value}


def build_router() -> Router:
    router = personal_router(__name__)
    router.callback_query.register(on_edit_menu, KeyCb.filter(F.action == "edit"))
    router.callback_query.register(on_edit_field, EditCb.filter())
    router.message.register(on_edit_text, StateFilter(KeyEdit.value), F.text,
                            ~F.text.startswith("/"))
    return router
