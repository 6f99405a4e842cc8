"""Called whenever a key or a user's reminder settings change, so reminder rows change at once.

Key changes come only through bot.keys.service.KeyService, which calls `on_key_saved`;
handlers never call the key hooks themselves.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.reminders.planning import (
    ReminderKind,
    Window,
    parse_offsets,
    plan_checkup,
    plan_expiry,
    plan_nudges,
    plan_whereabouts,
)
from storage.dto import KeyDTO, UserDTO
from storage.repositories import Repos

# A snooze ("remind me tomorrow") belongs to the key's old plan: a change replaces it.
KEY_KINDS = (ReminderKind.EXPIRY, ReminderKind.WHEREABOUTS, ReminderKind.SNOOZE)
NUDGE_KINDS = (ReminderKind.NUDGE_PASSWORD, ReminderKind.NUDGE_SMS, ReminderKind.NUDGE_REVOKE)


def user_window(user: UserDTO) -> Window:
    return Window.from_minutes(user.window_start, user.window_end)


def next_whereabouts(user: UserDTO, since: datetime, now: datetime) -> datetime:
    """Ask again N days after `since`; if that moment has passed, N days from now."""
    due = plan_whereabouts(since, user.timezone, user_window(user))
    return due if due > now else plan_whereabouts(now, user.timezone, user_window(user))


async def on_key_saved(
    repos: Repos, user: UserDTO, key: KeyDTO, now: datetime, *, added: bool = False
) -> None:
    """Re-plan the key's expiry and whereabouts reminders (and the nudges for a new key)."""
    if key.reminders_stopped:
        await repos.reminders.cancel_for_key(key.id)
        return
    window = user_window(user)
    zone = ZoneInfo(user.timezone)
    today = now.astimezone(zone).date()
    planned = [
        (r.kind, r.stage, r.due_at)
        for r in plan_expiry(key.expires_on, parse_offsets(user.expiry_offsets), user.timezone,
                             window)
        # Stages of earlier days are not news; today's stage still goes out (once: a row
        # already sent for this slot is never planned again, see replace_pending).
        if r.due_at.astimezone(zone).date() >= today
    ]
    if added:
        # The save confirmation already states the days left: today's stage would repeat it a
        # second later, so it counts as sent (the next stage still comes).
        today_stages = [p for p in planned if p[2].astimezone(zone).date() == today]
        await repos.reminders.mark_covered(user.id, key.id, today_stages, now)
        planned = [p for p in planned if p not in today_stages]
    planned.append((ReminderKind.WHEREABOUTS, 0, next_whereabouts(user, key.last_activity_at, now)))
    await repos.reminders.replace_pending(user.id, key.id, KEY_KINDS, planned)
    if added:
        nudges = [(r.kind, r.stage, r.due_at) for r in plan_nudges(now, user.timezone, window)]
        if key.password_changed:
            nudges = [n for n in nudges if n[0] != ReminderKind.NUDGE_PASSWORD]
        await repos.reminders.replace_pending(user.id, key.id, NUDGE_KINDS, nudges)


async def on_key_deleted(repos: Repos, key_id: int) -> None:
    await repos.reminders.cancel_for_key(key_id)


async def plan_user_checkup(repos: Repos, user: UserDTO, now: datetime) -> None:
    """(Re)plan the periodic security check-up, counted from the last one asked or confirmed
    (users.last_checkup_at; the engine sets it when it sends one). An overdue one (the mode
    just got shorter) stays due and goes out at the next window opening."""
    due = plan_checkup(user.last_checkup_at, user.created_at, user.activity_mode,
                       user.timezone, user_window(user))
    planned = [] if due is None else [(ReminderKind.CHECKUP, 0, due)]
    await repos.reminders.replace_pending(user.id, None, (ReminderKind.CHECKUP,), planned)


async def on_settings_changed(
    repos: Repos, user: UserDTO, now: datetime, **changed: object
) -> UserDTO:
    """Save reminder settings and re-plan every key and the check-up with them."""
    if changed:
        await repos.users.update_settings(user.id, **changed)
        user = replace(user, **changed)  # type: ignore[arg-type]
    for key in await repos.keys.list_for_user(user.id):
        await on_key_saved(repos, user, key, now)
    await plan_user_checkup(repos, user, now)
    return user
