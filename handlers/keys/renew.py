"""Recording a renewal, from the key's card or from a reminder's "renewed" button: one flow.

The prompt proposes the likely new end (a re-issue today plus the kind's validity, 29
February becoming 28) and accepts a typed date with the dialog's checks. Its button and a
typed date share one idempotency key (the prompt message), so a renewal is recorded once.
"""

from __future__ import annotations

from datetime import date, datetime

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import TextFn
from bot.keyboards import InlineKeyboardBuilder
from bot.keys.service import Change, KeyService, Outcome, Tap, local_today
from handlers.common import chat_of, personal_router, show, tap_of
from handlers.keys.edit import cancel_button, found
from handlers.keys.input import check_input
from handlers.keys.ui import KeyCb, answer_missing, card, esc, fmt_date
from storage.dto import KeyDTO, UserDTO
from storage.repositories import Repos


class KeyRenew(StatesGroup):
    new_expiry = State()


async def ask_renewal(
    query: CallbackQuery, bot: Bot, state: FSMContext, t: TextFn, user: UserDTO, key: KeyDTO,
    now: datetime, *, in_place: bool,
) -> None:
    """Ask for the new end: in place of the card, or (under a reminder) as a new message."""
    proposal = KeyService.renewal_proposal(key, user, now)
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn-keys-expiry_ok", date=fmt_date(proposal)),
              callback_data=KeyCb(action="renewok", key_id=key.id))
    cancel_button(kb, t, key.id)
    kb.adjust(1)
    text = t("keys-renew-ask", label=esc(key.label), date=fmt_date(proposal))
    if in_place and query.message is not None:
        await show(query, text, kb.as_markup())
        prompt_id = query.message.message_id
    else:
        prompt_id = (await bot.send_message(chat_of(query), text,
                                            reply_markup=kb.as_markup())).message_id
    await state.set_state(KeyRenew.new_expiry)
    await state.set_data({"renew_key": key.id, "renew_prompt": prompt_id})


def renewed(t: TextFn, change: Change, now: datetime, tz: str) -> tuple[str, InlineKeyboardMarkup]:
    assert change.key is not None
    text, markup = card(t, change.key, now, tz)
    return t("keys-renewed", date=fmt_date(change.key.expires_on)) + "\n\n" + text, markup


async def on_renew(
    query: CallbackQuery, callback_data: KeyCb, bot: Bot, state: FSMContext, t: TextFn,
    repos: Repos, user: UserDTO, now: datetime,
) -> None:
    key = await found(query, t, repos, user, callback_data.key_id)
    if key is not None:
        await ask_renewal(query, bot, state, t, user, key, now, in_place=True)


async def on_renew_ok(
    query: CallbackQuery, callback_data: KeyCb, state: FSMContext, t: TextFn, repos: Repos,
    user: UserDTO, now: datetime,
) -> None:
    change = await KeyService(repos).renew(user, callback_data.key_id, now,
                                           tap=tap_of(query, "renew"))
    if change.key is None:
        await answer_missing(query, t, change.outcome)
    elif change.outcome is Outcome.ALREADY:
        await query.answer(t("keys-already-renewed"))
    else:
        await query.answer()
        await state.clear()
        await show(query, *renewed(t, change, now, user.timezone))


async def on_renew_text(
    message: Message, state: FSMContext, t: TextFn, repos: Repos, user: UserDTO, now: datetime
) -> None:
    data = await state.get_data()
    today = local_today(user, now)
    checked = check_input("expiry", message.text or "", today, today)
    if checked.value is None:
        await message.answer(t(checked.error or "keys-error-empty"))
        return
    await state.clear()
    prompt = data.get("renew_prompt")
    tap = Tap(message.chat.id, int(prompt), "renew") if prompt else None
    change = await KeyService(repos).renew(user, int(data.get("renew_key", 0)), now,
                                           date.fromisoformat(checked.value), tap)
    if change.key is None:
        await message.answer(t("keys-gone" if change.outcome is Outcome.GONE else "keys-stale"))
    elif change.outcome is Outcome.ALREADY:
        await message.answer(t("keys-already-renewed"))
    else:
        text, markup = renewed(t, change, now, user.timezone)
        await message.answer(text, reply_markup=markup)


def build_router() -> Router:
    router = personal_router(__name__)
    router.callback_query.register(on_renew, KeyCb.filter(F.action == "renew"))
    router.callback_query.register(on_renew_ok, KeyCb.filter(F.action == "renewok"))
    router.message.register(on_renew_text, StateFilter(KeyRenew.new_expiry), F.text,
                            ~F.text.startswith("/"))
    return router
