"""Texts and keyboards of /stats and /learned: teaching the matcher from real questions."""

from __future__ import annotations

import html

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import TextFn
from bot.keyboards import InlineKeyboardBuilder
from bot.qa.service import QAService
from storage.learned import LearnedDTO
from storage.questions import UnansweredGroup

TOP_UNANSWERED = 10
LEARNED_SHOWN = 15


class TqAttach(CallbackData, prefix="tq"):
    """Choose a topic for unanswered question `id`."""

    id: int


class TqTopic(CallbackData, prefix="tqt"):
    id: int
    topic: str


class TqOut(CallbackData, prefix="tqo"):
    """Mark unanswered question `id` out of scope."""

    id: int


class LpMenu(CallbackData, prefix="lp"):
    action: str  # list | export


class LpRemove(CallbackData, prefix="lpr"):
    id: int


ADMIN_BUTTONS = (TqAttach, TqTopic, TqOut, LpMenu, LpRemove)


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def topic_label(qa: QAService, topic: str | None, lang: str, t: TextFn) -> str:
    """A topic's title in the admin's language, or "out of scope"."""
    if topic is None:
        return t("teach-out-of-scope")
    return qa.kb.text(topic, lang).title if topic in qa.kb.topics else topic


def stats_text(
    t: TextFn, groups: list[UnansweredGroup], feedback: dict[str, tuple[int, int]], days: int
) -> str:
    lines = [t("stats-title"), "", t("teach-unanswered-title", days=days)]
    lines += [
        t("teach-unanswered-line", n=n, text=escape(g.text), count=g.count)
        for n, g in enumerate(groups, 1)
    ] or [t("teach-unanswered-none")]
    if groups:
        lines += ["", t("teach-unanswered-hint")]
    lines += ["", t("stats-feedback-title")]
    lines += [
        t("stats-feedback-line", topic=topic, up=up, down=down)
        for topic, (up, down) in sorted(feedback.items(), key=lambda kv: -kv[1][1])
    ] or [t("stats-feedback-none")]
    return "\n".join(lines)


def stats_keyboard(t: TextFn, groups: list[UnansweredGroup], learned: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for n, g in enumerate(groups, 1):
        kb.button(text=t("btn-teach-attach", n=n), callback_data=TqAttach(id=g.id))
        kb.button(text=t("btn-teach-out", n=n), callback_data=TqOut(id=g.id))
    kb.button(text=t("btn-teach-learned", count=learned), callback_data=LpMenu(action="list"))
    kb.button(text=t("btn-teach-export"), callback_data=LpMenu(action="export"))
    kb.adjust(2)
    return kb.as_markup()


def topics_keyboard(qa: QAService, lang: str, question_id: int) -> InlineKeyboardMarkup:
    """Every topic of the knowledge base as it is loaded now (titles in the admin's language)."""
    kb = InlineKeyboardBuilder()
    for topic_id in qa.kb.topics:
        kb.button(
            text=qa.kb.text(topic_id, lang).title,
            callback_data=TqTopic(id=question_id, topic=topic_id),
        )
    kb.adjust(2)
    return kb.as_markup()


def learned_text(
    t: TextFn, qa: QAService, lang: str, items: list[LearnedDTO], total: int
) -> str:
    if not items:
        return t("teach-learned-none")
    lines = [t("teach-learned-title", count=total), ""]
    lines += [
        t("teach-learned-line", n=n, text=escape(item.text), language=item.lang,
          topic=topic_label(qa, item.topic, lang, t))
        for n, item in enumerate(items, 1)
    ]
    if total > len(items):
        lines += ["", t("teach-learned-more", count=total - len(items))]
    return "\n".join(lines)


def learned_keyboard(t: TextFn, items: list[LearnedDTO]) -> InlineKeyboardMarkup | None:
    if not items:
        return None
    kb = InlineKeyboardBuilder()
    for n, item in enumerate(items, 1):
        kb.button(text=t("btn-teach-remove", n=n), callback_data=LpRemove(id=item.id))
    kb.adjust(5)
    export = LpMenu(action="export").pack()
    kb.row(InlineKeyboardButton(text=t("btn-teach-export"), callback_data=export))
    return kb.as_markup()
