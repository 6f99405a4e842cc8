"""Buttons under a reminder: renewed (the card's renewal prompt), snooze, stop, answers, help."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from bot.i18n import TextFn
from bot.keys.service import KeyService, Outcome
from bot.reminders.hooks import plan_user_checkup, user_window
from bot.reminders.planning import WHEREABOUTS_AFTER_DAYS, plan_checkup
from bot.reminders.texts import ReminderCallback, fmt_date, topic_answer
from handlers.common import personal_router, reply_to, tap_of
from handlers.keys.renew import ask_renewal
from storage.dto import UserDTO
from storage.repositories import Repos

HELP_TOPICS = ("renew", "expired", "lost-or-stolen", "change-password", "sms-notifications",
               "revoke")
KEY_ACTIONS = ("new", "snz", "stop", "here", "pwd")


async def on_reminder_button(
    query: CallbackQuery, callback_data: ReminderCallback, bot: Bot, state: FSMContext,
    user: UserDTO, repos: Repos, t: TextFn, lang: str, now: datetime,
) -> None:
    action, key_id = callback_data.a, callback_data.k
    if action in KEY_ACTIONS:  # answered there: a repeated press gets a short notice
        await _key_action(query, bot, action, key_id, state, user, repos, t, now)
        return
    await query.answer()
    if action in HELP_TOPICS:
        await reply_to(query, topic_answer(t, action, lang))
    elif action == "unk":
        parts = [t("reminders-unknown-intro")] + [
            topic_answer(t, topic, lang) for topic in ("revoke", "fraud")]
        for part in parts:
            await reply_to(query, part)
    elif action == "ok":
        await _checkup_done(query, user, repos, t, now)
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


DONE = {"snz": "reminders-snoozed", "stop": "reminders-stopped", "here": "reminders-where-thanks",
        "pwd": "reminders-password-thanks"}
ALREADY = {"snz": "reminders-snoozed", "stop": "keys-reminders-already-stopped",
           "pwd": "reminders-password-thanks"}


async def _key_action(
    query: CallbackQuery, bot: Bot, action: str, key_id: int, state: FSMContext,
    user: UserDTO, repos: Repos, t: TextFn, now: datetime,
) -> None:
    keys = KeyService(repos)
    if action == "new":  # the same renewal prompt as the card's button, under the reminder
        change = await keys.find(user, key_id)
        if change.key is not None:
            await query.answer()
            await ask_renewal(query, bot, state, t, user, change.key, now, in_place=False)
            return
    elif action == "snz":
        change = await keys.snooze(user, key_id, now, tap_of(query, action))
    elif action == "stop":
        change = await keys.set_reminders(user, key_id, now, stopped=True)
    elif action == "here":
        change = await keys.confirm_whereabouts(user, key_id, now)
    else:
        change = await keys.password_changed(user, key_id, now)
    if change.key is None:  # deleted, or not this user's key: say so without revealing anything
        await query.answer()
        await reply_to(query, t("reminders-key-gone"))
    elif change.outcome is Outcome.ALREADY:
        await query.answer(t(ALREADY[action]))
    else:
        await query.answer()
        await reply_to(query, t(DONE[action], label=html.escape(change.key.label),
                                days=WHEREABOUTS_AFTER_DAYS))


def build_router() -> Router:
    router = personal_router(__name__)
    router.callback_query.register(on_reminder_button, ReminderCallback.filter())
    return router
