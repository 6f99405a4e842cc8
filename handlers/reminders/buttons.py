"""Buttons under a reminder: renewed (asks the new date), snooze, stop, answers, help topics."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.i18n import TextFn
from bot.keys.validation import DateError, parse_date
from bot.reminders.hooks import on_key_saved, plan_user_checkup, user_window
from bot.reminders.planning import (
    KIND_NUDGE_PASSWORD,
    KIND_SNOOZE,
    WHEREABOUTS_AFTER_DAYS,
    next_delivery_moment,
    plan_checkup,
)
from bot.reminders.texts import ReminderCallback, fmt_date, topic_answer
from handlers.common import personal_router, reply_to
from storage.dto import UserDTO
from storage.repositories import Repos

HELP_TOPICS = ("renew", "expired", "lost-or-stolen", "change-password", "sms-notifications",
               "revoke")
KEY_ACTIONS = ("new", "snz", "stop", "here", "pwd")
MAX_YEARS_AHEAD = 5


class RenewDialog(StatesGroup):
    new_date = State()


async def on_reminder_button(
    query: CallbackQuery, callback_data: ReminderCallback, state: FSMContext, user: UserDTO,
    repos: Repos, t: TextFn, lang: str, now: datetime,
) -> None:
    await query.answer()
    action, key_id = callback_data.a, callback_data.k
    if action in HELP_TOPICS:
        await reply_to(query, topic_answer(t, action, lang))
    elif action == "unk":
        parts = [t("reminders-unknown-intro")] + [
            topic_answer(t, topic, lang) for topic in ("revoke", "fraud")]
        for part in parts:
            await reply_to(query, part)
    elif action == "ok":
        await _checkup_done(query, user, repos, t, now)
    elif action in KEY_ACTIONS:
        await _key_action(query, action, key_id, state, user, repos, t, now)
    else:
        await reply_to(query, t("stale-button"))


async def _checkup_done(
    query: CallbackQuery, user: UserDTO, repos: Repos, t: TextFn, now: datetime
) -> None:
    await repos.users.update_settings(user.id, last_checkup_at=now)
    user = replace(user, last_checkup_at=now)
    await plan_user_checkup(repos, user, now)
    due = plan_checkup(now, user.created_at, user.activity_mode, user.timezone, user_window(user))
    if due is None:
        await reply_to(query, t("reminders-checkup-thanks-off"))
        return
    local_day = due.astimezone(ZoneInfo(user.timezone)).date()
    await reply_to(query, t("reminders-checkup-thanks", date=fmt_date(local_day)))


async def _key_action(
    query: CallbackQuery, action: str, key_id: int, state: FSMContext, user: UserDTO,
    repos: Repos, t: TextFn, now: datetime,
) -> None:
    key = await repos.keys.get_owned(user.id, key_id)
    if key is None:  # deleted, or not this user's key: say so without revealing anything
        await reply_to(query, t("reminders-key-gone"))
        return
    label = html.escape(key.label)
    if action == "new":
        await state.set_state(RenewDialog.new_date)
        await state.update_data(renew_key=key.id)
        await reply_to(query, t("reminders-renew-ask", label=label))
    elif action == "snz":
        tomorrow = now + timedelta(days=1)
        due = next_delivery_moment(tomorrow, user.timezone, user_window(user))
        await repos.reminders.add(user.id, key.id, KIND_SNOOZE, 0, due)
        await reply_to(query, t("reminders-snoozed"))
    elif action == "stop":
        await repos.keys.update(user.id, key.id, now, reminders_stopped=True)
        await repos.reminders.cancel_for_key(key.id)
        await reply_to(query, t("reminders-stopped", label=label))
    elif action == "here":
        await repos.keys.mark_used(user.id, key.id, now)
        key = await repos.keys.get_owned(user.id, key.id)
        if key is not None:
            await on_key_saved(repos, user, key, now)
        await reply_to(query, t("reminders-where-thanks", days=WHEREABOUTS_AFTER_DAYS))
    elif action == "pwd":
        await repos.keys.update(user.id, key.id, now, password_changed=True)
        await repos.reminders.replace_pending(user.id, key.id, (KIND_NUDGE_PASSWORD,), [])
        await reply_to(query, t("reminders-password-thanks"))


async def on_renew_date(
    message: Message, state: FSMContext, user: UserDTO, repos: Repos, t: TextFn, now: datetime
) -> None:
    today = now.astimezone(ZoneInfo(user.timezone)).date()
    try:
        new_date = parse_date(message.text or "", today)
    except DateError as exc:
        code = exc.code if exc.code == "invalid" else "format"
        await message.answer(t(f"reminders-renew-bad-{code}"))
        return
    if new_date <= today:
        await message.answer(t("reminders-renew-bad-past", today=fmt_date(today)))
        return
    if new_date > today.replace(year=today.year + MAX_YEARS_AHEAD):
        await message.answer(t("reminders-renew-bad-far"))
        return
    key_id = int((await state.get_data()).get("renew_key", 0))
    await state.clear()
    if not await repos.keys.renew(user.id, key_id, new_date, now, issued_on=today):
        await message.answer(t("reminders-key-gone"))
        return
    key = await repos.keys.get_owned(user.id, key_id)
    assert key is not None
    await on_key_saved(repos, user, key, now)
    await message.answer(t("reminders-renew-done", label=html.escape(key.label),
                           date=fmt_date(new_date)))


def build_router() -> Router:
    router = personal_router(__name__)
    router.callback_query.register(on_reminder_button, ReminderCallback.filter())
    router.message.register(on_renew_date, RenewDialog.new_date, F.text, ~F.text.startswith("/"))
    return router
