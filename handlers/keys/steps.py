"""The /addkey dialog as data: which steps apply, what each asks, the summary, the result."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import TextFn
from bot.keyboards import InlineKeyboardBuilder, built_once
from bot.keys.kinds import CHOICES, KeyHolder, KeyKind
from bot.keys.validation import default_expiry
from bot.reminders.planning import KeyStatus, key_status
from handlers.common import MenuCallback
from handlers.keys.ui import (
    AddCb,
    ListCb,
    choice_keyboard,
    esc,
    fmt_date,
    nav_row,
    status_text,
)
from storage.dto import KeyDraft, KeyDTO, UserDTO

ORDER = ("kind", "holder", "company", "bin", "purpose", "issued", "expiry", "storage", "label",
         "confirm")
# Which button actions each step accepts (back/cancel are accepted everywhere).
BUTTONS = {"kind": "kind", "holder": "holder", "purpose": "purpose", "bin": "skip",
           "issued": "today", "expiry": "expiry_ok", "storage": "skip", "label": "label_ok",
           "confirm": "save"}


def steps(data: dict[str, Any]) -> list[str]:
    """The steps this dialog goes through: company questions only for legal entities,
    and whatever a certificate already told us is skipped."""
    skip = set(data.get("prefilled", []))
    if data.get("holder") != KeyHolder.LEGAL:
        skip |= {"company", "bin"}
    return [s for s in ORDER if s not in skip]


def neighbour(step: str, data: dict[str, Any], delta: int) -> str | None:
    path = steps(data)
    i = path.index(step) + delta if step in path else 0
    return path[i] if 0 <= i < len(path) else None


def iso(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def proposed_expiry(data: dict[str, Any]) -> date | None:
    if data.get("expiry"):
        return iso(data["expiry"])
    issued = iso(data.get("issued"))
    return default_expiry(data["kind"], issued) if issued and data.get("kind") else None


def suggested_label(t: TextFn, data: dict[str, Any]) -> str:
    return t("keys-label-suggested", kind=t(f"keys-kind-{data.get('kind', 'file')}"),
             purpose=t(f"keys-purpose-{data.get('purpose', 'both')}"))


def summary(t: TextFn, data: dict[str, Any]) -> str:
    lines = [t("keys-summary-title"), t("keys-field-label", value=esc(data.get("label"))),
             t("keys-field-kind", value=t(f"keys-kind-{data['kind']}")),
             t("keys-field-holder", value=t(f"keys-holder-{data['holder']}"))]
    if data.get("company"):
        lines.append(t("keys-field-company", value=esc(data["company"])))
    if data.get("bin"):
        lines.append(t("keys-field-bin", value=data["bin"]))
    lines += [t("keys-field-purpose", value=t(f"keys-purpose-{data['purpose']}")),
              t("keys-field-issued", value=fmt_date(iso(data.get("issued")))),
              t("keys-field-expires", value=fmt_date(iso(data.get("expiry")))),
              t("keys-field-storage", value=esc(data.get("storage")) or "—")]
    return "\n".join(lines)


def prompt(step: str, t: TextFn, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """Question text and buttons for one step."""
    if step in CHOICES:
        return t(f"keys-ask-{step}"), choice_keyboard(t, step, CHOICES[step])
    text = summary(t, data) if step == "confirm" else t(f"keys-ask-{step}")
    if step not in ("expiry", "label"):
        return text, step_keyboard(t, step)
    kb = InlineKeyboardBuilder()
    if step == "expiry":
        proposal = proposed_expiry(data)
        text = t("keys-ask-expiry", date=fmt_date(proposal))
        if data.get("kind") == KeyKind.CLOUD and "expiry" not in data.get("prefilled", []):
            text += "\n\n" + t("keys-cloud-check")
        kb.button(text=t("btn-keys-expiry_ok", date=fmt_date(proposal)),
                  callback_data=AddCb(action="expiry_ok"))
    elif step == "label":
        kb.button(text=suggested_label(t, data), callback_data=AddCb(action="label_ok"))
    nav_row(kb, t)
    kb.adjust(1, 2)
    return text, kb.as_markup()


@built_once
def step_keyboard(t: TextFn, step: str) -> InlineKeyboardMarkup:
    """The buttons of a step that shows nothing from the dialog's data."""
    kb = InlineKeyboardBuilder()
    if step in BUTTONS:
        kb.button(text=t(f"btn-keys-{BUTTONS[step]}"), callback_data=AddCb(action=BUTTONS[step]))
    nav_row(kb, t)
    kb.adjust(*((1, 2) if step in BUTTONS else (2,)))
    return kb.as_markup()


def draft(data: dict[str, Any]) -> KeyDraft:
    details = dict(data.get("cert") or {})
    if data.get("holder") == KeyHolder.LEGAL and data.get("bin"):
        details["bin"] = data["bin"]
    expiry = iso(data.get("expiry"))
    assert expiry is not None  # the expiry step cannot be passed without one
    return KeyDraft(
        kind=data["kind"], purpose=data["purpose"], expires_on=expiry, label=data["label"],
        holder=data["holder"], issued_on=iso(data.get("issued")),
        storage_note=data.get("storage"),
        company=data.get("company") if data.get("holder") == KeyHolder.LEGAL else None,
        cert_info=details or None,
    )


def saved_text(t: TextFn, key: KeyDTO, user: UserDTO, now: datetime) -> str:
    text = t("keys-saved", label=esc(key.label), date=fmt_date(key.expires_on),
             status=status_text(t, key.expires_on, now, user.timezone))
    expired = key_status(key.expires_on, now, user.timezone) is KeyStatus.EXPIRED
    # An expired key needs a new one, not a reminder: say so right away.
    return text + "\n" + t("keys-saved-expired" if expired else "keys-saved-will-remind")


@built_once
def saved_keyboard(t: TextFn) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    # The menu's button: the list comes as a new message, the confirmation stays.
    kb.button(text=t("btn-menu-mykeys"), callback_data=MenuCallback(action="mykeys"))
    kb.button(text=t("btn-keys-add-more"), callback_data=ListCb(action="add"))
    return kb.as_markup()
