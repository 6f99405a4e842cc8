"""/stats and /learned for admins: attach real unanswered questions to a topic or mark them
out of scope, list, remove and export what was taught. Others are refused."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, or_f
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from bot.config import Settings
from bot.i18n import TextFn
from bot.qa.learned import export_tsv
from bot.qa.service import QAService
from bot.texts import split_for_telegram
from handlers.common import chat_of, reply_to
from handlers.teach import ui
from handlers.teach.ui import LpMenu, LpRemove, TqAttach, TqOut, TqTopic
from storage.repositories import Repos


async def send_parts(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """A long list in several messages; the buttons go under the last one."""
    parts = split_for_telegram(text)
    for part in parts[:-1]:
        await bot.send_message(chat_id, part)
    await bot.send_message(chat_id, parts[-1], reply_markup=markup)


async def cmd_stats(message: Message, bot: Bot, repos: Repos, qa: QAService, t: TextFn,
                    settings: Settings, now: datetime) -> None:
    days = settings.unanswered_retention_days
    pending = await repos.questions.top_unanswered(now - timedelta(days=days), limit=20)
    # Repeats of something already taught are answered from now on: nothing left to decide.
    groups = [g for g in pending if qa.learned.lookup(g.text) is None][: ui.TOP_UNANSWERED]
    text = ui.stats_text(t, groups, await repos.questions.feedback_counts(), days)
    markup = ui.stats_keyboard(t, groups, await repos.learned.count())
    await send_parts(bot, message.chat.id, text, markup)


async def on_attach(query: CallbackQuery, callback_data: TqAttach, repos: Repos, qa: QAService,
                    lang: str, t: TextFn) -> None:
    await query.answer()
    found = await repos.questions.get(callback_data.id)
    if found is None:
        await reply_to(query, t("teach-already-done"))
        return
    await reply_to(query, t("teach-choose-topic", text=ui.escape(found.text)),
                   reply_markup=ui.topics_keyboard(qa, lang, found.id))


async def on_topic(query: CallbackQuery, callback_data: TqTopic, repos: Repos, qa: QAService,
                   lang: str, t: TextFn, now: datetime) -> None:
    if callback_data.topic not in qa.kb.topics:
        await query.answer(t("teach-unknown-topic"), show_alert=True)
        return
    await decide(query, callback_data.id, callback_data.topic, repos, qa, lang, t, now)


async def on_out(query: CallbackQuery, callback_data: TqOut, repos: Repos, qa: QAService,
                 lang: str, t: TextFn, now: datetime) -> None:
    await decide(query, callback_data.id, None, repos, qa, lang, t, now)


async def decide(query: CallbackQuery, question_id: int, topic: str | None, repos: Repos,
                 qa: QAService, lang: str, t: TextFn, now: datetime) -> None:
    """Store the admin's decision, drop the question's repeats, teach this process's matcher."""
    await query.answer()
    group = await repos.questions.take_group(question_id)
    if group is None:  # a double tap, another admin, or the retention purge
        await reply_to(query, t("teach-already-done"))
        return
    admin = query.from_user.id
    saved = await repos.learned.save(group.text, topic, group.lang, admin, now)
    await repos.broadcasts.audit(admin, "qa.learn", {"id": saved.id, "topic": topic,
                                                     "repeats": group.count}, now)
    await repos.commit()
    qa.learn(saved.text, topic, saved.lang)
    key = "teach-attached" if topic else "teach-marked-out"
    await reply_to(query, t(key, text=ui.escape(saved.text),
                            topic=ui.topic_label(qa, topic, lang, t)))


async def show_learned(bot: Bot, chat_id: int, repos: Repos, qa: QAService, lang: str,
                       t: TextFn) -> None:
    items = await repos.learned.list(ui.LEARNED_SHOWN)
    text = ui.learned_text(t, qa, lang, items, await repos.learned.count())
    await send_parts(bot, chat_id, text, ui.learned_keyboard(t, items))


async def cmd_learned(message: Message, bot: Bot, repos: Repos, qa: QAService, lang: str,
                      t: TextFn) -> None:
    await show_learned(bot, message.chat.id, repos, qa, lang, t)


async def on_learned_menu(query: CallbackQuery, callback_data: LpMenu, bot: Bot, repos: Repos,
                          qa: QAService, lang: str, t: TextFn) -> None:
    if callback_data.action not in ("list", "export"):
        await query.answer(t("stale-button"), show_alert=True)
        return
    await query.answer()
    if callback_data.action == "list":
        await show_learned(bot, chat_of(query), repos, qa, lang, t)
        return
    items = await repos.learned.list()
    if not items:
        await reply_to(query, t("teach-learned-none"))
        return
    payload = export_tsv((i.text, i.topic, i.lang) for i in items).encode("utf-8")
    await bot.send_document(chat_of(query), BufferedInputFile(payload, "learned_phrasings.tsv"),
                            caption=t("teach-export-caption", count=len(items)))


async def on_remove(query: CallbackQuery, callback_data: LpRemove, repos: Repos, qa: QAService,
                    t: TextFn, now: datetime) -> None:
    await query.answer()
    removed = await repos.learned.remove(callback_data.id)
    if removed is None:
        await reply_to(query, t("teach-already-done"))
        return
    await repos.broadcasts.audit(query.from_user.id, "qa.unlearn", {"id": removed.id}, now)
    await repos.commit()
    qa.unlearn(removed.text)
    await reply_to(query, t("teach-removed", text=ui.escape(removed.text)))


async def refuse(message: Message, t: TextFn) -> None:
    await message.answer(t("admin-only"))


async def refuse_button(query: CallbackQuery, t: TextFn) -> None:
    await query.answer(t("teach-admin-only-button"), show_alert=True)


def build_router(settings: Settings) -> Router:
    is_admin = F.from_user.id.in_(settings.admin_ids)
    admins = Router(name=f"{__name__}.admins")
    admins.message.filter(F.chat.type == ChatType.PRIVATE, is_admin)
    admins.callback_query.filter(is_admin)
    admins.message.register(cmd_stats, Command("stats"))
    admins.message.register(cmd_learned, Command("learned"))
    admins.callback_query.register(on_attach, TqAttach.filter())
    admins.callback_query.register(on_topic, TqTopic.filter())
    admins.callback_query.register(on_out, TqOut.filter())
    admins.callback_query.register(on_learned_menu, LpMenu.filter())
    admins.callback_query.register(on_remove, LpRemove.filter())
    # After the admin router: whoever reaches this is not an admin.
    refusal = Router(name=f"{__name__}.refusal")
    refusal.message.register(refuse, Command("stats", "learned"), ~is_admin)
    buttons = or_f(*(kind.filter() for kind in ui.ADMIN_BUTTONS))
    refusal.callback_query.register(refuse_button, buttons, ~is_admin)
    root = Router(name=__name__)
    root.include_routers(admins, refusal)
    return root
