"""Pieces of the /broadcast dialog: states, buttons, and small pure parsers with tests."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup, Message

from bot.broadcast.html_check import check_length, plain_text, validate_telegram_html
from bot.broadcast.tips import TipsLibrary, load_tips
from bot.config import Settings
from bot.i18n import LANGUAGES, LOCALES_DIR, TextFn
from bot.keyboards import InlineKeyboardBuilder
from storage.broadcasts import Audience, BroadcastDTO

AUDIENCES = ("all", "kk", "ru", "expiring", "legal", "inactive")
NEEDS_DAYS = ("expiring", "inactive")
TIME_FORMAT = "%d.%m.%Y %H:%M"
_TIME_RE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2}):(\d{2})\s*$")


class BroadcastDialog(StatesGroup):
    kk_text = State()
    ru_text = State()
    days = State()
    when_time = State()


class BcMenu(CallbackData, prefix="bcm"):
    action: str  # compose | tip | list


class BcTip(CallbackData, prefix="bct"):
    tip: str


class BcAudience(CallbackData, prefix="bca"):
    kind: str


class BcWhen(CallbackData, prefix="bcw"):
    later: bool


class BcConfirm(CallbackData, prefix="bcc"):
    action: str  # send | paid | abort


class BcCancel(CallbackData, prefix="bcx"):
    id: int


@lru_cache(maxsize=1)
def tips_library() -> TipsLibrary:
    return load_tips(LOCALES_DIR)


def menu_keyboard(t: TextFn) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for action in ("compose", "tip", "list"):
        kb.button(text=t(f"btn-broadcast-{action}"), callback_data=BcMenu(action=action))
    kb.adjust(1)
    return kb.as_markup()


def tips_keyboard(lang: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for tip in tips_library():
        title = plain_text(tip.text(lang)).strip().splitlines()[0]
        kb.button(text=title[:48], callback_data=BcTip(tip=tip.id))
    kb.adjust(1)
    return kb.as_markup()


def audience_keyboard(t: TextFn) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for kind in AUDIENCES:
        kb.button(text=t(f"btn-broadcast-aud-{kind}"), callback_data=BcAudience(kind=kind))
    kb.adjust(1)
    return kb.as_markup()


def when_keyboard(t: TextFn) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn-broadcast-now"), callback_data=BcWhen(later=False))
    kb.button(text=t("btn-broadcast-later"), callback_data=BcWhen(later=True))
    return kb.as_markup()


def confirm_keyboard(t: TextFn, paid: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn-broadcast-send"), callback_data=BcConfirm(action="send"))
    paid_label = "btn-broadcast-paid-off" if paid else "btn-broadcast-paid-on"
    kb.button(text=t(paid_label), callback_data=BcConfirm(action="paid"))
    kb.button(text=t("btn-broadcast-abort"), callback_data=BcConfirm(action="abort"))
    kb.adjust(1)
    return kb.as_markup()


def cancel_keyboard(t: TextFn, ids: list[int]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for broadcast_id in ids:
        kb.button(text=t("btn-broadcast-cancel-one", id=broadcast_id),
                  callback_data=BcCancel(id=broadcast_id))
    kb.adjust(1)
    return kb.as_markup()


def message_html(message: Message) -> str:
    """The admin's text as HTML: Telegram formatting (entities) if used, else the raw text,
    so both bold-in-the-app and typed <b>tags</b> work."""
    if any(e.type != "bot_command" for e in message.entities or []):
        return message.html_text
    return message.text or ""


def html_errors(text: str) -> list[str]:
    return validate_telegram_html(text) + check_length(text)


def format_errors(errors: list[str]) -> str:
    return "\n".join(f"• {html.escape(e)}" for e in errors[:5])


def parse_days(text: str) -> int | None:
    value = text.strip()
    if not value.isdigit():
        return None
    days = int(value)
    return days if 1 <= days <= 365 else None


def parse_local_time(text: str, tz: str) -> datetime | None:
    """"dd.mm.yyyy hh:mm" in the admin's time zone, as an aware datetime; None if malformed."""
    m = _TIME_RE.match(text)
    if m is None:
        return None
    day, month, year, hour, minute = (int(g) for g in m.groups())
    try:
        return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))
    except ValueError:
        return None


def audience_from(data: dict[str, object]) -> Audience:
    kind = str(data.get("audience", "all"))
    if kind in LANGUAGES:
        return Audience(kind="lang", lang=kind)
    days = data.get("days")
    return Audience(kind=kind, days=int(days) if isinstance(days, int) else None)


def describe(t: TextFn, aud: Audience) -> str:
    if aud.kind == "lang":
        return t("broadcast-aud-lang", language=aud.lang or "ru")
    if aud.kind in NEEDS_DAYS:
        return t(f"broadcast-aud-{aud.kind}", days=aud.days or 0)
    return t(f"broadcast-aud-{aud.kind}")


def when_text(t: TextFn, when: datetime | None, tz: str) -> str:
    return t("broadcast-now") if when is None else when.astimezone(ZoneInfo(tz)).strftime(
        TIME_FORMAT
    )


def list_text(t: TextFn, items: list[BroadcastDTO], tz: str) -> str:
    return "\n".join(
        t("broadcast-list-item", id=b.id, status=b.status, audience=describe(t, b.audience),
          when=when_text(t, b.scheduled_at, tz))
        for b in items
    )


def local_date(now: datetime, settings: Settings) -> date:
    """Today in the bot's time zone: "expires within N days" counts local calendar days."""
    return now.astimezone(ZoneInfo(settings.bot_timezone)).date()
