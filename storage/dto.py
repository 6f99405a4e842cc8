"""Plain values that repositories return: handlers never see rows or ciphertext."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class UserDTO:
    id: int
    tg_id: int
    language: str
    timezone: str
    consent_at: datetime | None
    created_at: datetime
    last_seen_at: datetime
    blocked_at: datetime | None
    expiry_offsets: str
    activity_mode: str
    window_start: int
    window_end: int
    weekly_tips: bool
    broadcasts_opt_in: bool
    last_checkup_at: datetime | None

    @property
    def has_consented(self) -> bool:
        return self.consent_at is not None


@dataclass(frozen=True, slots=True)
class KeyDraft:
    """What the user tells us about a key; labels and notes are encrypted on write."""

    kind: str
    purpose: str
    expires_on: date
    label: str
    holder: str = "individual"
    issued_on: date | None = None
    storage_note: str | None = None
    company: str | None = None
    cert_info: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class KeyDTO:
    id: int
    user_id: int
    kind: str
    holder: str
    purpose: str
    issued_on: date | None
    expires_on: date
    label: str
    storage_note: str | None
    company: str | None
    cert_info: dict[str, str] | None
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    reminders_stopped: bool
    password_changed: bool
    last_used_at: datetime | None = None
    renewals: list[tuple[date, date, datetime]] = field(default_factory=list)
