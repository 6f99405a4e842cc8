"""Free-text questions → knowledge-base answers, /faq and 👍/👎 feedback."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message

from bot.config import Settings
from bot.i18n import TextFn, Translator
from bot.keyboards import InlineKeyboardBuilder, built_once
from bot.keys.secrets import looks_like_secret
from bot.qa.service import QAResult, QAService
from handlers.common import MenuCallback, delete_quietly, reply_to
from storage.encryption import FieldCipher
from storage.repositories import Repos
from storage.write_behind import WriteBehind

logger = logging.getLogger(__name__)
GROUPS = {ChatType.GROUP, ChatType.SUPERGROUP}


class TopicCallback(CallbackData, prefix="topic"):
    id: str


class FaqSectionCallback(CallbackData, prefix="faqs"):
    id: str


class FeedbackCallback(CallbackData, prefix="fb"):
    topic: str
    up: bool


def answer_keyboard(
    qa: QAService, result: QAResult, t: TextFn, votes: bool = True
) -> InlineKeyboardMarkup | None:
    """Related topics, and 👍/👎 only in a private chat: in a group anyone could press them."""
    if result.topic is None:
        return None
    related = tuple((r, qa.kb.text(r, result.lang).title) for r in result.related[:2])
    return _answer_markup(t, result.topic, related, votes)


@built_once
def _answer_markup(
    t: TextFn, topic: str, related: tuple[tuple[str, str], ...], votes: bool
) -> InlineKeyboardMarkup | None:
    kb = InlineKeyboardBuilder()
    if votes:
        up, down = (FeedbackCallback(topic=topic, up=v) for v in (True, False))
        kb.button(text=t("btn-helpful"), callback_data=up)
        kb.button(text=t("btn-not-helpful"), callback_data=down)
    for topic_id, title in related:
        kb.button(text=title, callback_data=TopicCallback(id=topic_id))
    kb.adjust(2, 1, 1) if votes else kb.adjust(1)
    return kb.as_markup() if list(kb.buttons) else None


def in_private(message: Message | InaccessibleMessage | None) -> bool:
    return message is None or message.chat.type == ChatType.PRIVATE


# Small talk that deserves a friendly word rather than "I don't know this one".
GREETINGS = frozenset(
    "привет здравствуйте здравствуй салем сәлем салеметсиз сәлеметсіз добрый hello hi салам"
    " ассалаумағалейкум ассалаумагалейкум".split()
)
THANKS = frozenset("спасибо спс благодарю рахмет рақмет рахмет! thanks".split())


def small_talk(text: str) -> str | None:
    """The text id for a bare greeting or thanks (at most three words), else None."""
    words = [w.strip("!.,?)(").lower() for w in text.split()]
    if not words or len(words) > 3:
        return None
    if words[0] in GREETINGS:
        return "questions-greeting"
    if words[0] in THANKS:
        return "questions-thanks-reply"
    return None


async def refuse_secret(message: Message, t: TextFn) -> None:
    """Never keep a message with a password, IIN or code: delete it where we can, warn."""
    await delete_quietly(message)  # if Telegram refuses, the warning still goes out
    await message.answer(t("questions-secret-warning"))


async def reply_with_answer(
    message: Message,
    text: str,
    qa: QAService,
    repos: Repos,
    lang: str,
    translator: Translator,
    now: datetime,
    write_behind: WriteBehind,
) -> None:
    result = qa.answer(text, user_lang=lang)
    t = translator.for_lang(result.lang)
    body = result.answer
    if result.answered_in_other_language:
        body += "\n\n" + t("questions-answered-in-other-language")
    if result.topic is None and not result.learned:  # an admin's "out of scope" is decided
        await repos.questions.log_unanswered(text, result.lang, result.score, now, write_behind)
        logger.info("question without a topic (score %.2f)", result.score)
    votes = in_private(message)
    await message.answer(body, reply_markup=answer_keyboard(qa, result, t, votes))


async def on_question(
    message: Message,
    bot: Bot,
    qa: QAService,
    repos: Repos,
    lang: str,
    t: TextFn,
    translator: Translator,
    now: datetime,
    write_behind: WriteBehind,
) -> None:
    """A question in a private chat, or one addressed to the bot in a group."""
    me = await bot.me()
    text = (message.text or "").replace(f"@{me.username}", " ").strip()
    if looks_like_secret(text):
        await refuse_secret(message, t)
        return
    if not text:  # only the mention in a group
        await message.reply(t("questions-group-hint"))
        return
    chat_id = small_talk(text)
    if chat_id is not None:
        await message.answer(t(chat_id))
        return
    await reply_with_answer(message, text, qa, repos, lang, translator, now, write_behind)


def faq_keyboard(qa: QAService, t: TextFn) -> InlineKeyboardMarkup:
    """/faq first shows sections: 31 topics in one list are too many to browse."""
    return _faq_markup(t, tuple(qa.kb.sections))


@built_once
def _faq_markup(t: TextFn, sections: tuple[str, ...]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for section in sections:
        label = t(f"btn-faq-section-{section}")
        kb.button(text=label, callback_data=FaqSectionCallback(id=section))
    kb.adjust(1)
    return kb.as_markup()


def section_keyboard(qa: QAService, section: str, lang: str, t: TextFn) -> InlineKeyboardMarkup:
    topics = tuple((i, qa.kb.text(i, lang).title) for i in qa.kb.sections[section])
    return _section_markup(t, topics)


@built_once
def _section_markup(t: TextFn, topics: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for topic_id, title in topics:
        kb.button(text=title, callback_data=TopicCallback(id=topic_id))
    kb.button(text=t("btn-faq-sections"), callback_data=MenuCallback(action="faq"))
    kb.adjust(1)
    return kb.as_markup()


async def cmd_faq(message: Message, qa: QAService, t: TextFn) -> None:
    await message.answer(t("questions-faq-title"), reply_markup=faq_keyboard(qa, t))


async def on_menu_faq(query: CallbackQuery, qa: QAService, t: TextFn) -> None:
    await query.answer()
    await reply_to(query, t("questions-faq-title"), reply_markup=faq_keyboard(qa, t))


async def on_faq_section(
    query: CallbackQuery, callback_data: FaqSectionCallback, qa: QAService, lang: str, t: TextFn
) -> None:
    await query.answer()
    if callback_data.id not in qa.kb.sections:
        await reply_to(query, t("stale-button"))
        return
    title = t("questions-faq-section", section=t(f"btn-faq-section-{callback_data.id}"))
    await reply_to(query, title, reply_markup=section_keyboard(qa, callback_data.id, lang, t))


async def on_topic(
    query: CallbackQuery, callback_data: TopicCallback, qa: QAService, lang: str, t: TextFn
) -> None:
    await query.answer()
    if callback_data.id not in qa.kb.topics:
        await reply_to(query, t("stale-button"))
        return
    result = qa.topic_result(callback_data.id, lang)
    votes = in_private(query.message)
    await reply_to(query, result.answer, reply_markup=answer_keyboard(qa, result, t, votes))


async def on_feedback(
    query: CallbackQuery,
    callback_data: FeedbackCallback,
    qa: QAService,
    repos: Repos,
    cipher: FieldCipher,
    t: TextFn,
    now: datetime,
    write_behind: WriteBehind,
) -> None:
    if callback_data.topic not in qa.kb.topics:
        await query.answer(t("stale-button"), show_alert=True)
        return
    message_id = query.message.message_id if query.message else 0
    # One vote per person per answer, without storing who voted.
    vote_key = cipher.blind_index(f"vote:{query.from_user.id}:{message_id}")
    fresh = await repos.questions.record_feedback(
        vote_key, callback_data.topic, callback_data.up, now, write_behind
    )
    await query.answer(t("questions-thanks-feedback" if fresh else "questions-already-rated"))


async def addressed_to_bot(message: Message, bot: Bot) -> bool:
    """In groups the bot speaks only when mentioned or replied to."""
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot.id:
        return True
    me = await bot.me()
    mentions = [
        e.extract_from(message.text or "") for e in message.entities or [] if e.type == "mention"
    ]
    return f"@{me.username}".lower() in (m.lower() for m in mentions)


def build_router(settings: Settings) -> Router:
    router = Router(name=__name__)
    private = F.chat.type == ChatType.PRIVATE
    router.message.register(cmd_faq, Command("faq"))
    router.callback_query.register(on_menu_faq, MenuCallback.filter(F.action == "faq"))
    router.callback_query.register(on_faq_section, FaqSectionCallback.filter())
    router.callback_query.register(on_topic, TopicCallback.filter())
    # Votes count only from private chats; an old group button gets the stale-button alert.
    router.callback_query.register(
        on_feedback, FeedbackCallback.filter(), F.message.chat.type == ChatType.PRIVATE
    )
    question = F.text & ~F.text.startswith("/")
    router.message.register(on_question, private, question, StateFilter(None))
    router.message.register(on_question, F.chat.type.in_(GROUPS), question, addressed_to_bot)
    return router
