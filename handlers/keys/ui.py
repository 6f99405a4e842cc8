"""Key registry: typed callback data, keyboards and text formatting shared by its routers."""

from __future__ import annotations

import html
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup

from bot.i18n import TextFn
from bot.keyboards import InlineKeyboardBuilder, built_once
from bot.keys.service import Outcome
from bot.reminders.planning import KeyStatus, days_left, key_status
from bot.reminders.texts import fmt_date as reminder_date
from bot.texts import clean_text
from storage.dto import KeyDTO

PAGE_SIZE = 8
MAX_LABEL = 64
MAX_NOTE = 300
MAX_COMPANY = 120


STATUS_ICONS = {KeyStatus.VALID: "🟢", KeyStatus.EXPIRING: "🟡", KeyStatus.EXPIRED: "🔴"}


class AddCb(CallbackData, prefix="ak"):
    """A button of the /addkey dialog; `action` is checked against the current step."""

    action: str
    value: str = ""


class KeyCb(CallbackData, prefix="k"):
    """An action on one key; the handler re-checks that the key belongs to the caller."""

    action: str
    key_id: int
    page: int = 0


class EditCb(CallbackData, prefix="ke"):
    key_id: int
    field: str
    value: str = ""


class ListCb(CallbackData, prefix="kl"):
    action: str  # "page" | "ics" | "add"
    page: int = 0


def fmt_date(d: date | None) -> str:
    """The reminders' date format, with a dash for a date the user skipped."""
    return "—" if d is None else reminder_date(d)


def esc(text: str | None) -> str:
    """User or certificate text, safe to show: no markup, no bidi tricks."""
    return html.escape(clean_text(text or ""))


def status_text(t: TextFn, expires_on: date, now: datetime, tz: str) -> str:
    left = days_left(expires_on, now, tz)
    if left == 0:
        return t("keys-status-today")
    status = key_status(expires_on, now, tz)
    if status is KeyStatus.EXPIRED:
        return t("keys-status-expired", days=-left)
    return t(f"keys-status-{status}", days=left)


def status_icon(expires_on: date, now: datetime, tz: str) -> str:
    return STATUS_ICONS[key_status(expires_on, now, tz)]


def nav_row(kb: InlineKeyboardBuilder, t: TextFn, back: bool = True) -> None:
    """Back and Cancel on every step of the dialog."""
    if back:
        kb.button(text=t("btn-keys-back"), callback_data=AddCb(action="back"))
    kb.button(text=t("btn-keys-cancel"), callback_data=AddCb(action="cancel"))


@built_once
def choice_keyboard(
    t: TextFn, action: str, values: tuple[str, ...], back: bool = True
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for value in values:
        kb.button(text=t(f"btn-keys-{action}-{value}"), callback_data=AddCb(action=action,
                                                                          value=value))
    nav_row(kb, t, back)
    kb.adjust(*([1] * len(values)), 2 if back else 1)
    return kb.as_markup()


def key_lines(t: TextFn, key: KeyDTO, now: datetime, tz: str) -> list[str]:
    """The full card of a key; user text is escaped."""
    # Only what the user said: a key nobody marked as used shows a dash.
    used_on = key.last_used_at.astimezone(ZoneInfo(tz)).date() if key.last_used_at else None
    lines = [
        f"🔑 <b>{esc(key.label)}</b>",
        t("keys-field-kind", value=t(f"keys-kind-{key.kind}")),
        t("keys-field-holder", value=t(f"keys-holder-{key.holder}")),
    ]
    if key.company:
        lines.append(t("keys-field-company", value=esc(key.company)))
    bin_ = (key.cert_info or {}).get("bin")
    if bin_:
        lines.append(t("keys-field-bin", value=bin_))
    lines += [
        t("keys-field-purpose", value=t(f"keys-purpose-{key.purpose}")),
        t("keys-field-issued", value=fmt_date(key.issued_on)),
        t("keys-field-expires", value=fmt_date(key.expires_on)),
        status_icon(key.expires_on, now, tz) + " " + status_text(t, key.expires_on, now, tz),
        t("keys-field-used", value=fmt_date(used_on)),
    ]
    if key.renewals:
        lines.append(t("keys-field-renewals", count=len(key.renewals)))
    if key.reminders_stopped:
        lines.append(t("keys-field-reminders-off"))
    return lines


def key_keyboard(t: TextFn, key: KeyDTO, page: int) -> InlineKeyboardMarkup:
    return _key_markup(t, key.id, key.reminders_stopped, page)


@built_once
def _key_markup(t: TextFn, key_id: int, stopped: bool, page: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for action in ("edit", "renew", "used", "where"):
        kb.button(text=t(f"btn-keys-{action}"), callback_data=KeyCb(action=action, key_id=key_id,
                                                                     page=page))
    stop = "resume" if stopped else "stop"
    kb.button(text=t(f"btn-keys-{stop}"), callback_data=KeyCb(action=stop, key_id=key_id,
                                                               page=page))
    kb.button(text=t("btn-keys-delete"), callback_data=KeyCb(action="del", key_id=key_id,
                                                             page=page))
    kb.button(text=t("btn-keys-to-list"), callback_data=ListCb(action="page", page=page))
    kb.adjust(2, 2, 2, 1)
    return kb.as_markup()


Screen = tuple[str, InlineKeyboardMarkup]


def card(t: TextFn, key: KeyDTO, now: datetime, tz: str, page: int = 0) -> Screen:
    """A key's card: its text and its buttons."""
    return "\n".join(key_lines(t, key, now, tz)), key_keyboard(t, key, page)


async def answer_missing(query: CallbackQuery, t: TextFn, outcome: Outcome) -> None:
    """A button of a key that is not there: deleted (say so) or never this user's (say
    nothing more than that the button is out of date)."""
    await query.answer(t("keys-gone" if outcome is Outcome.GONE else "keys-stale"),
                       show_alert=True)
