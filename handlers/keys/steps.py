"""The /addkey dialog as data: which steps apply, what each asks, and the summary."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import TextFn
from bot.keys.kinds import CHOICES, KeyKind
from bot.keys.validation import default_expiry
from handlers.keys.ui import (
    AddCb,
    choice_keyboard,
    esc,
    fmt_date,
    nav_row,
)

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
    if data.get("holder") != "legal":
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
    kb = InlineKeyboardBuilder()
    text = summary(t, data) if step == "confirm" else t(f"keys-ask-{step}")
    if step == "expiry":
        proposal = proposed_expiry(data)
        text = t("keys-ask-expiry", date=fmt_date(proposal))
        if data.get("kind") == KeyKind.CLOUD and "expiry" not in data.get("prefilled", []):
            text += "\n\n" + t("keys-cloud-check")
        kb.button(text=t("btn-keys-expiry_ok", date=fmt_date(proposal)),
                  callback_data=AddCb(action="expiry_ok"))
    elif step == "label":
        kb.button(text=suggested_label(t, data), callback_data=AddCb(action="label_ok"))
    if step in BUTTONS and step not in ("expiry", "label"):
        kb.button(text=t(f"btn-keys-{BUTTONS[step]}"), callback_data=AddCb(action=BUTTONS[step]))
    nav_row(kb, t)
    kb.adjust(*((1, 2) if step in BUTTONS else (2,)))
    return text, kb.as_markup()
