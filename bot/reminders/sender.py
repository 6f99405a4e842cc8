"""Sends one user's claimed reminders as one message and records the outcome.

Outcomes: "sent" (rows marked sent), "skipped" (nothing left to say: the key is gone, stopped
or renewed since planning), "blocked" (403 or chat not found: the user is marked blocked, rows
go back to pending until they write again), "failed" (a 400 Telegram will never accept: rows
marked failed, logged), "retry" (429 budget used up, Telegram unreachable, the claim got too
old, or a network error mid-request: rows go back to pending and the next scan sends them, so
a message Telegram did get in that last case is repeated once: at-least-once).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup

from bot.delivery import Outcome, Pacer, Policy, send_with_retry
from bot.i18n import Translator
from bot.reminders.hooks import plan_user_checkup, user_window
from bot.reminders.planning import (
    DueReminder,
    ReminderKind,
    plan_whereabouts,
)
from bot.reminders.texts import Item, render
from storage.database import SessionPool
from storage.dto import KeyDTO, UserDTO
from storage.encryption import FieldCipher
from storage.reminders import FAILED, SKIPPED
from storage.repositories import Repos

logger = logging.getLogger(__name__)
# Telegram unreachable: no retry in place, the scan stops and the next one (a minute later)
# tries again. A few 429 waits are fine: the claim-age check stops an attempt on an old claim.
POLICY = Policy(max_attempts=5, connect_retries=0)
RESULT = {
    Outcome.SENT: "sent",
    Outcome.BLOCKED: "blocked",
    Outcome.CHAT_NOT_FOUND: "blocked",
    Outcome.REJECTED: "failed",
    Outcome.RETRY_LATER: "retry",
    Outcome.UNKNOWN: "retry",  # at-least-once: a reminder may repeat, it is never lost
}


@dataclass(frozen=True)
class Claim:
    """Rows one claim token won, per user, in bundle order; `taken` is time.monotonic()."""

    token: str
    taken: float
    by_user: dict[int, list[DueReminder]]


def _still_relevant(r: DueReminder, key: KeyDTO | None, tz: str) -> bool:
    if r.key_id is None:
        return True
    if key is None or key.reminders_stopped:
        return False
    if r.kind == ReminderKind.NUDGE_PASSWORD:
        return not key.password_changed
    if r.kind == ReminderKind.EXPIRY:
        # Planned for another expiry date: the key was renewed after this row was claimed.
        planned_for = (r.due_at + timedelta(days=r.stage)).astimezone(ZoneInfo(tz)).date()
        return planned_for == key.expires_on
    return True


@dataclass(frozen=True)
class Ready:
    """One user's message to send: the user and the reminders still worth saying."""

    user: UserDTO
    items: list[Item]


def _items(user: UserDTO, rows: Sequence[DueReminder], keys: dict[int, KeyDTO]) -> list[Item]:
    items = [
        Item(r, keys.get(r.key_id) if r.key_id is not None else None) for r in rows
        if _still_relevant(r, keys.get(r.key_id) if r.key_id is not None else None,
                           user.timezone)
    ]
    # A snooze and a due expiry stage of the same key say the same thing: keep one.
    expiry_keys = {i.reminder.key_id for i in items if i.reminder.kind == ReminderKind.EXPIRY}
    return [
        i for i in items
        if not (i.reminder.kind == ReminderKind.SNOOZE and i.reminder.key_id in expiry_keys)
    ]


class ReminderSender:
    def __init__(
        self, bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
        pacer: Pacer, claim_budget: float,
    ) -> None:
        self.bot, self.pool, self.cipher, self.translator = bot, pool, cipher, translator
        self.pacer = pacer
        # Seconds a claim may be used for sending; well under the recovery timeout, so a
        # scanner never sends on a claim that another scanner may already have recovered.
        self.claim_budget = claim_budget

    async def load(self, claim: Claim, user_ids: Sequence[int]) -> dict[int, Ready]:
        """What these users of a claim are to get, read in ONE transaction (users, keys and
        renewals in a query each, not three per user) shortly before their sends; rows with
        nothing left to say are closed as skipped in the same commit."""
        async with self.pool() as session:
            repos = Repos.build(session, self.cipher)
            users = await repos.users.get_many(list(user_ids))
            owned = {r.key_id: u for u in user_ids if u in users
                     for r in claim.by_user[u] if r.key_id is not None}
            keys = await repos.keys.get_many_owned(owned)
            ready: dict[int, Ready] = {}
            dropped: list[int] = []
            for user_id in user_ids:
                user = users.get(user_id)
                rows = claim.by_user[user_id]
                items = [] if user is None else _items(user, rows, keys)
                kept = {i.reminder.id for i in items}
                dropped.extend(r.id for r in rows if r.id not in kept)
                if user is not None and items:
                    ready[user_id] = Ready(user, items)
            await repos.reminders.finish_claimed(dropped, claim.token, SKIPPED)
            await session.commit()
        return ready

    async def deliver(self, claim: Claim, ready: Ready | None, now: datetime) -> str:
        """Send one user's message (from `load`; None: nothing to say) and record the outcome."""
        if ready is None:
            return "skipped"
        user, items = ready.user, ready.items
        t = self.translator.for_lang(user.language)
        text, markup = render(t, items, now, user.timezone)
        outcome = await self._send(user.tg_id, text, markup, claim)
        ids = [i.reminder.id for i in items]
        async with self.pool() as session:
            repos = Repos.build(session, self.cipher)
            if outcome == "sent":
                await repos.reminders.mark_sent(ids, claim.token, now)
                await self._plan_next(repos, user, items, now)
            elif outcome == "failed":
                await repos.reminders.finish_claimed(ids, claim.token, FAILED)
            else:
                if outcome == "blocked":
                    await repos.users.mark_blocked(user.id, now)
                await repos.reminders.release(ids, claim.token)
            await session.commit()
        return outcome

    async def _send(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup, claim: Claim
    ) -> str:
        def young() -> bool:
            # Checked before each attempt: a claim too old to send on safely goes back to
            # pending (a recovery may already own it); the next scan retries.
            return time.monotonic() - claim.taken <= self.claim_budget

        policy = replace(POLICY, still_valid=young)
        result = await send_with_retry(
            self.bot, self.pacer, chat_id, text, policy, reply_markup=markup
        )
        return RESULT[result.outcome]

    async def _plan_next(
        self, repos: Repos, user: UserDTO, items: Sequence[Item], now: datetime
    ) -> None:
        """Periodic questions repeat until answered: plan the next one from this send."""
        for item in items:
            r = item.reminder
            if r.kind == ReminderKind.CHECKUP:
                await repos.users.update_settings(user.id, last_checkup_at=now)
                await plan_user_checkup(repos, replace(user, last_checkup_at=now), now)
            elif r.kind == ReminderKind.WHEREABOUTS and r.key_id is not None:
                due = plan_whereabouts(now, user.timezone, user_window(user))
                await repos.reminders.add(user.id, r.key_id, ReminderKind.WHEREABOUTS, 0, due)
