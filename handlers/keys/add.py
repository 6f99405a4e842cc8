"""/addkey: a step-by-step dialog (FSM persisted in the database) that records key metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.i18n import TextFn
from bot.keys.service import MAX_KEYS, KeyService, Outcome, local_today
from handlers.common import MenuCallback, main_menu, personal_router, tap_of
from handlers.keys.input import DATE_STEPS, TEXT_STEPS, check_input
from handlers.keys.steps import (
    BUTTONS,
    CHOICES,
    draft,
    iso,
    neighbour,
    prompt,
    proposed_expiry,
    saved_keyboard,
    saved_text,
    steps,
    suggested_label,
)
from handlers.keys.ui import AddCb
from storage.dto import UserDTO
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
    """Store the step, then ask; `prompt_msg` records that the question reached the user."""
    await state.set_state(getattr(KeyForm, step))
    # update_data returns the stored data: no second read of the FSM row
    text, markup = prompt(step, t, await state.update_data(prompt_msg=None))
    sent = await bot.send_message(chat_id, text, reply_markup=markup)
    await state.update_data(prompt_msg=sent.message_id)


async def start_dialog(
    bot: Bot, chat_id: int, state: FSMContext, t: TextFn, repos: Repos, user: UserDTO,
    data: dict[str, Any] | None = None,
) -> None:
    """Begin (or begin again) the dialog; `data` holds what a certificate pre-filled."""
    if not await KeyService(repos).can_add(user):
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
        if step in DATE_STEPS:
            # A date the bot did not take: ask again with the buttons ("Today", the proposed
            # expiry), so the user is not left with a bare error line to type under.
            text, markup = prompt(step, t, data)
            sent = await message.answer(checked.error_text(t) + "\n\n" + text,
                                        reply_markup=markup)
            await state.update_data(prompt_msg=sent.message_id)
        else:
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
    if action == "save" and step in (None, "confirm"):  # a repeated Save is "already saved"
        await save(query, bot, chat_id, state, t, repos, user, now, step == "confirm")
        return
    if step is None:
        await query.answer(t("keys-dialog-ended"), show_alert=True)
        return
    if action not in ("back", "cancel") and BUTTONS.get(step) != action:
        await on_stale_step(query, bot, chat_id, state, t, step)
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
    else:
        await apply_button(step, callback_data.value, state, t, user, now)
        await advance(bot, chat_id, state, t, step)


async def on_stale_step(
    query: CallbackQuery, bot: Bot, chat_id: int, state: FSMContext, t: TextFn, step: str
) -> None:
    """A button of an earlier step: a double tap, or a tap after the bot lost its reply."""
    data = await state.get_data()
    await query.answer(t("keys-dialog-moved-on"))
    if data.get("prompt_msg") is None:  # the current question may never have arrived: ask again
        await show_step(bot, chat_id, state, t, step)


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


async def save(
    query: CallbackQuery, bot: Bot, chat_id: int, state: FSMContext, t: TextFn, repos: Repos,
    user: UserDTO, now: datetime, at_confirm: bool,
) -> None:
    data = await state.get_data() if at_confirm else None
    change = await KeyService(repos).add(user, draft(data) if data else None, now,
                                         tap_of(query, "save"))
    if change.outcome in (Outcome.ALREADY, Outcome.STALE):
        already = change.outcome is Outcome.ALREADY
        await query.answer(t("keys-already-saved" if already else "keys-dialog-ended"),
                           show_alert=not already)
        return
    await query.answer()
    await state.clear()
    if change.key is None:
        await bot.send_message(chat_id, t("keys-limit", limit=MAX_KEYS))
        return
    await bot.send_message(chat_id, saved_text(t, change.key, user, now),
                           reply_markup=saved_keyboard(t))


def build_router() -> Router:
    router = personal_router(__name__)
    router.message.register(cmd_addkey, Command("addkey"))
    router.callback_query.register(on_menu_addkey, MenuCallback.filter(F.action == "addkey"))
    router.callback_query.register(on_button, AddCb.filter())
    # Commands pass through: /mykeys or /help mid-dialog must not become a label.
    router.message.register(on_text, StateFilter(KeyForm), F.text, ~F.text.startswith("/"))
    return router
