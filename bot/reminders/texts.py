"""Turns a user's due reminders into one message: text in their language plus buttons."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import TextFn
from bot.reminders.planning import (
    DueReminder,
    ReminderKind,
    days_left,
)
from storage.dto import KeyDTO

logger = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[2]
FALLBACK_LINK = "https://pki.gov.kz"
# Telegram allows 100 buttons and 4096 characters; a bundle shows this many items in full.
MAX_ITEMS = 6
# Past this many key reminders a bundle gets one "my keys" button instead of a row per key.
MAX_KEY_ROWS = 3
# MenuCallback(action="mykeys") from handlers.common, spelled out so bot/ does not import handlers.
MYKEYS_CALLBACK = "menu:mykeys"


class ReminderCallback(CallbackData, prefix="rem"):
    """A button under a reminder: `a` is the action, `k` the key id (0 for none)."""

    a: str
    k: int = 0


@dataclass(frozen=True)
class Item:
    """One due reminder with the key it is about (None for user-level ones)."""

    reminder: DueReminder
    key: KeyDTO | None


def fmt_date(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def _buttons(item: Item, now: datetime, tz: str) -> list[tuple[str, str, int]]:
    kind, key_id = item.reminder.kind, item.key.id if item.key else 0
    if kind in (ReminderKind.EXPIRY, ReminderKind.SNOOZE) and item.key is not None:
        expired = days_left(item.key.expires_on, now, tz) < 0
        how = ("btn-reminders-how-new", "expired") if expired else (
            "btn-reminders-how-renew", "renew")
        return [("btn-reminders-renewed", "new", key_id), ("btn-reminders-snooze", "snz", key_id),
                ("btn-reminders-stop", "stop", key_id), (how[0], how[1], key_id)]
    # Actions that are knowledge-base topic ids just show that topic's answer.
    table: dict[str, list[tuple[str, str]]] = {
        ReminderKind.CHECKUP: [
            ("btn-reminders-checkup-ok", "ok"), ("btn-reminders-checkup-unknown", "unk"),
        ],
        ReminderKind.WHEREABOUTS: [
            ("btn-reminders-where-ok", "here"), ("btn-reminders-where-lost", "lost-or-stolen"),
        ],
        ReminderKind.NUDGE_PASSWORD: [
            ("btn-reminders-password-done", "pwd"),
            ("btn-reminders-password-how", "change-password"),
        ],
        ReminderKind.NUDGE_SMS: [("btn-reminders-sms-how", "sms-notifications")],
        ReminderKind.NUDGE_REVOKE: [("btn-reminders-revoke-how", "revoke")],
    }
    return [(label, action, key_id) for label, action in table.get(kind, [])]


def item_text(t: TextFn, item: Item, now: datetime, tz: str) -> str:
    kind, key = item.reminder.kind, item.key
    if kind == ReminderKind.CHECKUP:
        return t("reminders-checkup")
    if kind == ReminderKind.NUDGE_SMS:
        return t("reminders-nudge-sms")
    if kind == ReminderKind.NUDGE_REVOKE:
        return t("reminders-nudge-revoke")
    assert key is not None, "key reminders are dropped before rendering when the key is gone"
    label = html.escape(key.label)
    if kind == ReminderKind.WHEREABOUTS:
        idle = max(1, (now - key.last_activity_at).days)
        return t("reminders-whereabouts", label=label, days=idle)
    if kind == ReminderKind.NUDGE_PASSWORD:
        return t("reminders-nudge-password", label=label)
    left = days_left(key.expires_on, now, tz)
    args = {"label": label, "date": fmt_date(key.expires_on)}
    if left > 0:
        return t("reminders-expiry-soon", days=left, **args)
    return t("reminders-expiry-today" if left == 0 else "reminders-expiry-expired", **args)


def render(
    t: TextFn, items: Sequence[Item], now: datetime, tz: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The bundled message: most urgent first (the caller orders items), numbered when >1."""
    shown = list(items[:MAX_ITEMS])
    many = len(items) > 1
    parts: list[str] = [t("reminders-bundle-title", count=len(items))] if many else []
    keyed = sum(1 for item in items if item.key is not None)
    collapse = many and keyed > MAX_KEY_ROWS
    mykeys = [InlineKeyboardButton(text=t("btn-menu-mykeys"), callback_data=MYKEYS_CALLBACK)]
    rows: list[list[InlineKeyboardButton]] = []
    for n, item in enumerate(shown, 1):
        text = item_text(t, item, now, tz)
        parts.append(f"{n}. {text}" if many else text)
        buttons = [
            InlineKeyboardButton(
                text=(f"{n}. " if many else "") + t(label),
                callback_data=ReminderCallback(a=action, k=key_id).pack(),
            )
            for label, action, key_id in _buttons(item, now, tz)
        ]
        if not buttons:
            continue
        if collapse and item.key is not None:
            # Two dozen buttons are unreadable: one button opens the key list, where every key
            # has its own actions.
            if mykeys not in rows:
                rows.append(mykeys)
            continue
        # A lone reminder keeps a button per row (full labels); in a bundle each item gets one row.
        rows.extend([buttons] if many else [[b] for b in buttons])
    if len(items) > len(shown):
        parts.append(t("reminders-more", count=len(items) - len(shown)))
        if collapse and mykeys not in rows:
            rows.append(mykeys)
    return "\n\n".join(parts), InlineKeyboardMarkup(inline_keyboard=rows)


@functools.cache
def _knowledge() -> object | None:
    try:
        from bot.qa.knowledge import load_knowledge

        return load_knowledge(REPO_ROOT)
    except Exception:  # noqa: BLE001 - a broken knowledge base must not break reminders
        logger.warning("knowledge base unavailable; reminder help links to pki.gov.kz")
        return None


def topic_answer(t: TextFn, topic: str, lang: str) -> str:
    """The knowledge-base answer for `topic`, or a pointer to pki.gov.kz when it is missing."""
    kb = _knowledge()
    try:
        return str(kb.text(topic, lang).answer)  # type: ignore[attr-defined]
    except (AttributeError, KeyError):
        return f"{t('reminders-help-fallback')}\n{FALLBACK_LINK}"
