"""Pure checks of what the user types into the key dialog and the key editor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.i18n import TextFn
from bot.keys.secrets import find_sensitive
from bot.keys.validation import (
    DateError,
    is_valid_bin,
    parse_date,
    validate_expiry_date,
    validate_issue_date,
)
from bot.texts import clean_text
from handlers.keys.ui import MAX_COMPANY, MAX_LABEL, MAX_NOTE

TEXT_STEPS = ("company", "bin", "issued", "expiry", "storage", "label")
DATE_STEPS = ("issued", "expiry")


@dataclass(frozen=True)
class Checked:
    """Either a value to keep (`value`) or a message id explaining the refusal."""

    value: str | None = None
    error: str | None = None
    limit: int | None = None  # for "too long": the user is told how much fits

    def error_text(self, t: TextFn) -> str:
        return t(self.error or "keys-error-empty", limit=self.limit or 0)


def _text(text: str, limit: int, *, secrets: bool = True) -> Checked:
    value = " ".join(text.split())
    if not value:
        return Checked(error="keys-error-empty")
    if len(value) > limit:
        return Checked(error="keys-error-too-long", limit=limit)
    # Passwords, PINs, IINs and SMS codes are refused, never stored.
    found = find_sensitive(value) if secrets else None
    if found is not None:
        return Checked(error=f"keys-sensitive-{found}")
    return Checked(value=value)


def _date(text: str, today: date, issued: date | None, step: str) -> Checked:
    try:
        d = parse_date(text, today)
        if step == "issued":
            validate_issue_date(d, today)
        else:
            validate_expiry_date(d, issued or today)
    except DateError as e:
        return Checked(error=f"keys-date-{e.code}")
    return Checked(value=d.isoformat())


def check_input(step: str, text: str, today: date, issued: date | None = None) -> Checked:
    """Validate the text typed at `step`; dates come back as ISO strings."""
    text = clean_text(text)
    if step in DATE_STEPS:
        return _date(text, today, issued, step)
    if step == "bin":
        value = "".join(text.split())
        return Checked(value=value) if is_valid_bin(value) else Checked(error="keys-error-bin")
    if step == "company":
        return _text(text, MAX_COMPANY)
    if step == "storage":
        return _text(text, MAX_NOTE)
    return _text(text, MAX_LABEL)
