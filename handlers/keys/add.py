"""/addkey: a step-by-step dialog (FSM persisted in the database) that records key metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import TextFn
from bot.reminders.hooks import on_key_saved
from bot.reminders.planning import key_status
from handlers.common import MenuCallback, main_menu, personal_router
from handlers.keys.input import TEXT_STEPS, check_input
from handlers.keys.steps import (
    BUTTONS,
    CHOICES,
    iso,
    neighbour,
    prompt,
    proposed_expiry,
    steps,
    suggested_label,
)
from handlers.keys.ui import MAX_KEYS, AddCb, ListCb, esc, fmt_date, local_today, status_text
from storage.dto import KeyDraft, UserDTO
from storage.repositories import Repos


class KeyForm(StatesGroup):
    kind = State()
    holder = State()
    company = State()
    bin = State()
    purpose = State()
    issued = State()
    expiry = State()
    storage = State()
    label = State()
    confirm = State()


async def show_step(bot: Bot, chat_id: int, state: FSMContext, t: TextFn, step: str) -> None:
    await state.set_state(getattr(KeyForm, step))
    text, markup = prompt(step, t, await state.get_data())
    await bot.send_message(chat_id, text, reply_markup=markup)


async def start_dialog(
    bot: Bot, chat_id: int, state: FSMContext, t: TextFn, repos: Repos, user: UserDTO,
    data: dict[str, Any] | None = None,
) -> None:
    """Begin (or begin again) the dialog; `data` holds what a certificate pre-filled."""
    if await repos.keys.count_for_user(user.id) >= MAX_KEYS:
        await state.clear()
        await bot.send_message(chat_id, t("keys-limit", limit=MAX_KEYS))
        return
    await state.set_data(data or {})
    await show_step(bot, chat_id, state, t, steps(data or {})[0])


async def cmd_addkey(
    message: Message, bot: Bot, state: FSMContext, t: TextFn, repos: Repos, user: UserDTO
) -> None:
    await message.answer(t("keys-intro"))
    await start_dialog(bot, message.chat.id, state, t, repos, user)


async def on_menu_addkey(
    query: CallbackQuery, bot: Bot, state: FSMContext, t: TextFn, repos: Repos, user: UserDTO
) -> None:
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    await bot.send_message(chat_id, t("keys-intro"))
    await start_dialog(bot, chat_id, state, t, repos, user)


async def current_step(state: FSMContext) -> str | None:
    raw = await state.get_state()
    if raw is None or not raw.startswith("KeyForm:"):
        return None
    return raw.split(":", 1)[1]


async def advance(bot: Bot, chat_id: int, state: FSMContext, t: TextFn, step: str) -> None:
    nxt = neighbour(step, await state.get_data(), +1)
    await show_step(bot, chat_id, state, t, nxt or "confirm")


async def on_text(
    message: Message, bot: Bot, state: FSMContext, t: TextFn, user: UserDTO, now: datetime
) -> None:
    step = await current_step(state)
    if step is None:
        return
    data = await state.get_data()
    if step not in TEXT_STEPS or message.text is None:
        text, markup = prompt(step, t, data)
        await message.answer(t("keys-use-buttons") + "\n\n" + text, reply_markup=markup)
        return
    checked = check_input(step, message.text, local_today(user, now), iso(data.get("issued")))
    if checked.value is None:
        await message.answer(checked.error_text(t))
        return
    await state.update_data({step: checked.value})
    await advance(bot, message.chat.id, state, t, step)


async def on_button(
    query: CallbackQuery, callback_data: AddCb, bot: Bot, state: FSMContext, t: TextFn,
    repos: Repos, user: UserDTO, now: datetime,
) -> None:
    step = await current_step(state)
    action = callback_data.action
    chat_id = query.message.chat.id if query.message else query.from_user.id
    if step is None or (action not in ("back", "cancel") and BUTTONS.get(step) != action):
        await query.answer(t("keys-stale"), show_alert=True)
        return
    await query.answer()
    if action == "cancel":
        await state.clear()
        await bot.send_message(chat_id, t("keys-cancelled"), reply_markup=main_menu(t))
    elif action == "back":
        prev = neighbour(step, await state.get_data(), -1)
        if prev is None:
            await state.clear()
            await bot.send_message(chat_id, t("menu-title"), reply_markup=main_menu(t))
        else:
            await show_step(bot, chat_id, state, t, prev)
    elif action == "save":
        await save(bot, chat_id, state, t, repos, user, now)
    else:
        await apply_button(step, callback_data.value, state, t, user, now)
        await advance(bot, chat_id, state, t, step)


async def apply_button(
    step: str, value: str, state: FSMContext, t: TextFn, user: UserDTO, now: datetime
) -> None:
    data = await state.get_data()
    if step in CHOICES:
        value = value if value in CHOICES[step] else CHOICES[step][0]
        await state.update_data({step: value})
    elif step == "issued":
        await state.update_data(issued=local_today(user, now).isoformat())
    elif step == "expiry":
        proposal = proposed_expiry(data)
        await state.update_data(expiry=proposal.isoformat() if proposal else None)
    elif step == "label":
        await state.update_data(label=suggested_label(t, data))
    else:  # skip an optional answer
        await state.update_data({step: None})


def draft(data: dict[str, Any]) -> KeyDraft:
    details = dict(data.get("cert") or {})
    if data.get("holder") == "legal" and data.get("bin"):
        details["bin"] = data["bin"]
    expiry = iso(data.get("expiry"))
    assert expiry is not None  # the expiry step cannot be passed without one
    return KeyDraft(
        kind=data["kind"], purpose=data["purpose"], expires_on=expiry, label=data["label"],
        holder=data["holder"], issued_on=iso(data.get("issued")),
        storage_note=data.get("storage"),
        company=data.get("company") if data.get("holder") == "legal" else None,
        cert_info=details or None,
    )


async def save(
    bot: Bot, chat_id: int, state: FSMContext, t: TextFn, repos: Repos, user: UserDTO,
    now: datetime,
) -> None:
    if await repos.keys.count_for_user(user.id) >= MAX_KEYS:
        await state.clear()
        await bot.send_message(chat_id, t("keys-limit", limit=MAX_KEYS))
        return
    key = await repos.keys.add(user.id, draft(await state.get_data()), now)
    await on_key_saved(repos, user, key, now, added=True)
    await state.clear()
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn-menu-mykeys"), callback_data=ListCb(action="page"))
    kb.button(text=t("btn-keys-add-more"), callback_data=ListCb(action="add"))
    expired = key_status(key.expires_on, now, user.timezone) == "expired"
    text = t("keys-saved", label=esc(key.label), date=fmt_date(key.expires_on),
             status=status_text(t, key.expires_on, now, user.timezone))
    # An expired key needs a new one, not a reminder: say so right away.
    text += "\n" + t("keys-saved-expired" if expired else "keys-saved-will-remind")
    await bot.send_message(chat_id, text, reply_markup=kb.as_markup())


def build_router() -> Router:
    router = personal_router(__name__)
    router.message.register(cmd_addkey, Command("addkey"))
    router.callback_query.register(on_menu_addkey, MenuCallback.filter(F.action == "addkey"))
    router.callback_query.register(on_button, AddCb.filter())
    # Commands pass through: /mykeys or /help mid-dialog must not become a label.
    router.message.register(on_text, StateFilter(KeyForm), F.text, ~F.text.startswith("/"))
    return router
