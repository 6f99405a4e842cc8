"""Called by the key registry whenever a key changes, so its reminders change at once."""

from __future__ import annotations

from datetime import datetime

from bot.reminders.planning import (
    KIND_EXPIRY,
    KIND_NUDGE_PASSWORD,
    KIND_NUDGE_REVOKE,
    KIND_NUDGE_SMS,
    KIND_WHEREABOUTS,
    Window,
    parse_offsets,
    plan_expiry,
    plan_nudges,
    plan_whereabouts,
)
from storage.dto import KeyDTO, UserDTO
from storage.repositories import Repos

KEY_KINDS = (KIND_EXPIRY, KIND_WHEREABOUTS)
NUDGE_KINDS = (KIND_NUDGE_PASSWORD, KIND_NUDGE_SMS, KIND_NUDGE_REVOKE)


def user_window(user: UserDTO) -> Window:
    return Window.from_minutes(user.window_start, user.window_end)


async def on_key_saved(
    repos: Repos, user: UserDTO, key: KeyDTO, now: datetime, *, added: bool = False
) -> None:
    """Re-plan the key's expiry and whereabouts reminders (and the nudges for a new key)."""
    if key.reminders_stopped:
        await repos.reminders.cancel_for_key(key.id)
        return
    window = user_window(user)
    planned = [
        (r.kind, r.stage, r.due_at)
        for r in plan_expiry(key.expires_on, parse_offsets(user.expiry_offsets), user.timezone,
                             window)
        if r.due_at > now  # a stage already past when the key was saved is not news
    ]
    planned.append(
        (KIND_WHEREABOUTS, 0, plan_whereabouts(key.last_activity_at, user.timezone, window))
    )
    await repos.reminders.replace_pending(user.id, key.id, KEY_KINDS, planned)
    if added:
        nudges = [(r.kind, r.stage, r.due_at) for r in plan_nudges(now, user.timezone, window)]
        if key.password_changed:
            nudges = [n for n in nudges if n[0] != KIND_NUDGE_PASSWORD]
        await repos.reminders.replace_pending(user.id, key.id, NUDGE_KINDS, nudges)


async def on_key_deleted(repos: Repos, key_id: int) -> None:
    await repos.reminders.cancel_for_key(key_id)
