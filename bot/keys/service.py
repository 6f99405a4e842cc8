"""Every change to a stored key goes through KeyService, which also re-plans its reminders.

One tap, one effect, with no lock and no sleep: a change is either a conditional update whose
row count says whether this call made it (used today, stop/resume reminders, delete, password
changed), or it first claims the press's idempotency key (save, renewed, snooze), an INSERT
… ON CONFLICT DO NOTHING that a concurrent twin can only lose. The loser gets
`Outcome.ALREADY`. A change is committed before the caller talks to Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.keys.kinds import KeyHolder
from bot.keys.validation import default_expiry
from bot.reminders.hooks import on_key_saved, user_window
from bot.reminders.planning import ReminderKind, next_delivery_moment
from storage.dto import KeyDraft, KeyDTO, UserDTO
from storage.repositories import Repos

MAX_KEYS = 50


class Outcome(StrEnum):
    DONE = "done"
    ALREADY = "already"  # this press (or an equal one) already had its effect
    GONE = "gone"  # the key was deleted
    STALE = "stale"  # no such key for this user, or the dialog is over
    LIMIT = "limit"  # MAX_KEYS reached


@dataclass(frozen=True, slots=True)
class Tap:
    """One press of one button: the message it sits under and what it does."""

    chat_id: int
    message_id: int | str
    action: str


@dataclass(frozen=True, slots=True)
class Change:
    outcome: Outcome
    key: KeyDTO | None = None  # the key after the change (before it, for a deletion)


def local_today(user: UserDTO, now: datetime) -> date:
    return now.astimezone(ZoneInfo(user.timezone)).date()


class KeyService:
    """Key changes over one update's repositories (cheap to build per update)."""

    def __init__(self, repos: Repos) -> None:
        self.repos = repos

    # --- reading ---------------------------------------------------------------------------

    async def find(self, user: UserDTO, key_id: int) -> Change:
        key = await self.repos.keys.get_owned(user.id, key_id)
        return Change(Outcome.DONE, key) if key else Change(await self._missing(user, key_id))

    async def can_add(self, user: UserDTO) -> bool:
        return await self.repos.keys.count_for_user(user.id) < MAX_KEYS

    @staticmethod
    def renewal_proposal(key: KeyDTO, user: UserDTO, now: datetime) -> date:
        """A renewal is a re-issue today; its likely end (29 Feb becomes 28 Feb)."""
        return default_expiry(key.kind, local_today(user, now))

    # --- changes ---------------------------------------------------------------------------

    async def add(self, user: UserDTO, draft: KeyDraft | None, now: datetime, tap: Tap) -> Change:
        """Save a new key, once per press of its Save button; `draft` None: the dialog is over."""
        claim = self._tap_key(tap)
        if await self.repos.claims.is_claimed(claim):
            return Change(Outcome.ALREADY)
        if draft is None:
            return Change(Outcome.STALE)
        if not await self.can_add(user):
            return Change(Outcome.LIMIT)
        if not await self.repos.claims.claim(claim, now):
            return Change(Outcome.ALREADY)
        key = await self.repos.keys.add(user.id, draft, now)
        await on_key_saved(self.repos, user, key, now, added=True)
        await self.repos.commit()
        return Change(Outcome.DONE, key)

    async def edit(self, user: UserDTO, key_id: int, now: datetime, **fields: object) -> Change:
        """Change any stored field (see KeyRepo.EDITABLE)."""
        key = await self.repos.keys.get_owned(user.id, key_id)
        if key is None:
            return Change(await self._missing(user, key_id))
        if fields.get("holder") == KeyHolder.INDIVIDUAL:  # a person has no company or BIN
            details = {k: v for k, v in (key.cert_info or {}).items() if k != "bin"}
            fields.update(company=None, cert_info=details or None)
        await self.repos.keys.update(user.id, key_id, now, **fields)
        return await self._replanned(user, key_id, now)

    async def renew(
        self, user: UserDTO, key_id: int, now: datetime, new_expiry: date | None = None,
        tap: Tap | None = None,
    ) -> Change:
        """Record a renewal (re-issued today; the old expiry goes to history), once per tap.
        Without `new_expiry`, the proposal (`renewal_proposal`) is taken."""
        key = await self.repos.keys.get_owned(user.id, key_id)
        if key is None:
            return Change(await self._missing(user, key_id))
        if tap is not None and not await self.repos.claims.claim(self._tap_key(tap), now):
            return Change(Outcome.ALREADY, key)
        new_expiry = new_expiry or self.renewal_proposal(key, user, now)
        today = local_today(user, now)
        await self.repos.keys.renew(user.id, key_id, new_expiry, now, issued_on=today)
        return await self._replanned(user, key_id, now)

    async def mark_used(self, user: UserDTO, key_id: int, now: datetime) -> Change:
        """"Used today", at most once per day of the user's calendar."""
        zone = ZoneInfo(user.timezone)
        day_start = datetime.combine(local_today(user, now), time(), zone).astimezone(UTC)
        if not await self.repos.keys.mark_used(user.id, key_id, now, since=day_start):
            return await self._not_changed(user, key_id)
        return await self._replanned(user, key_id, now)

    async def confirm_whereabouts(self, user: UserDTO, key_id: int, now: datetime) -> Change:
        """"The key is still where it was": ask again in a few months."""
        if not await self.repos.keys.touch(user.id, key_id, now):
            return await self._not_changed(user, key_id)
        return await self._replanned(user, key_id, now)

    async def set_reminders(
        self, user: UserDTO, key_id: int, now: datetime, *, stopped: bool
    ) -> Change:
        if not await self.repos.keys.set_flag(user.id, key_id, now, "reminders_stopped", stopped):
            return await self._not_changed(user, key_id)
        return await self._replanned(user, key_id, now)

    async def password_changed(self, user: UserDTO, key_id: int, now: datetime) -> Change:
        if not await self.repos.keys.set_flag(user.id, key_id, now, "password_changed", True):
            return await self._not_changed(user, key_id)
        await self.repos.reminders.replace_pending(
            user.id, key_id, (ReminderKind.NUDGE_PASSWORD,), []
        )
        await self.repos.commit()
        return Change(Outcome.DONE, await self.repos.keys.get_owned(user.id, key_id))

    async def snooze(self, user: UserDTO, key_id: int, now: datetime, tap: Tap) -> Change:
        """Remind about this key again tomorrow, once per press."""
        key = await self.repos.keys.get_owned(user.id, key_id)
        if key is None:
            return Change(await self._missing(user, key_id))
        if not await self.repos.claims.claim(self._tap_key(tap), now):
            return Change(Outcome.ALREADY, key)
        due = next_delivery_moment(now + timedelta(days=1), user.timezone, user_window(user))
        await self.repos.reminders.add(user.id, key_id, ReminderKind.SNOOZE, 0, due)
        await self.repos.commit()
        return Change(Outcome.DONE, key)

    async def delete(self, user: UserDTO, key_id: int, now: datetime) -> Change:
        """Delete the key with its history and reminders; the result holds the deleted key."""
        key = await self.repos.keys.get_owned(user.id, key_id)
        if key is None:
            missing = await self._missing(user, key_id)
            return Change(Outcome.ALREADY if missing is Outcome.GONE else missing)
        if not await self.repos.keys.delete(user.id, key_id):  # a concurrent twin won
            return Change(Outcome.ALREADY)
        # Remembered (as a blind index) so a stale button can say "deleted", not "unknown".
        await self.repos.claims.claim(self._deleted_key(user, key_id), now)
        await self.repos.commit()
        return Change(Outcome.DONE, key)

    # --- helpers ---------------------------------------------------------------------------

    async def _replanned(self, user: UserDTO, key_id: int, now: datetime) -> Change:
        key = await self.repos.keys.get_owned(user.id, key_id)
        if key is None:  # deleted between our update and this read
            return Change(await self._missing(user, key_id))
        await on_key_saved(self.repos, user, key, now)
        await self.repos.commit()
        return Change(Outcome.DONE, key)

    async def _not_changed(self, user: UserDTO, key_id: int) -> Change:
        """A conditional update touched no row: a repeat, or the key is not there."""
        key = await self.repos.keys.get_owned(user.id, key_id)
        return Change(Outcome.ALREADY, key) if key else Change(await self._missing(user, key_id))

    async def _missing(self, user: UserDTO, key_id: int) -> Outcome:
        deleted = await self.repos.claims.is_claimed(self._deleted_key(user, key_id))
        return Outcome.GONE if deleted else Outcome.STALE

    def _tap_key(self, tap: Tap) -> str:
        return self.repos.claims.key_for("tap", tap.chat_id, tap.message_id, tap.action)

    def _deleted_key(self, user: UserDTO, key_id: int) -> str:
        return self.repos.claims.key_for("deleted", user.id, key_id)
