"""Question → answer → feedback through the real Dispatcher, in both languages and in groups."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery, DeleteMessage, SendMessage
from aiogram.types import Chat, InlineKeyboardMarkup, Message, MessageEntity
from sqlalchemy import select

from bot.i18n import Translator
from bot.qa.service import build_service
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.models import Feedback, UnansweredQuestion
from storage.repositories import Repos
from storage.write_behind import WriteBehind
from tests.support.telegram import BOT_USER, RecordingSession, UpdateFactory

INLINE = WriteBehind(None)  # a closed writer: log rows written in the caller's session

QA = build_service()


def answer_of(topic: str, lang: str) -> str:
    return QA.kb.text(topic, lang).answer


def keyboard(session: RecordingSession) -> list[tuple[str, str]]:
    markup = session.sent()[-1].reply_markup
    assert isinstance(markup, InlineKeyboardMarkup)
    return [(b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row]


async def test_russian_question_gets_answer_feedback_and_related(
    dp: Dispatcher, bot: Bot, session: RecordingSession, ru_user: UpdateFactory
) -> None:
    await dp.feed_update(bot, ru_user.message("Забыл пароль от ЭЦП, что делать?"))
    assert session.last_text() == answer_of("forgot-password", "ru")
    buttons = keyboard(session)
    assert [label for label, _ in buttons[:2]] == ["👍", "👎"]
    related = QA.kb.topics["forgot-password"].related
    assert [label for label, _ in buttons[2:]] == [QA.kb.text(r, "ru").title for r in related]


async def test_kazakh_question_from_russian_user_is_answered_in_kazakh_with_note(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    ru_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, ru_user.message("ЭЦҚ құпиясөзін ұмытып қалдым, не істеймін?"))
    text = session.last_text()
    assert text.startswith(answer_of("forgot-password", "kk"))
    assert text.endswith(translator.get("kk", "questions-answered-in-other-language"))


async def test_kazakh_without_special_letters(
    dp: Dispatcher, bot: Bot, session: RecordingSession, kk_user: UpdateFactory
) -> None:
    await dp.feed_update(bot, kk_user.message("флешка жогалды ишинде эцк бар еди"))
    assert session.last_text() == answer_of("lost-or-stolen", "kk")


async def test_out_of_scope_gets_fallback_and_is_logged_redacted_and_encrypted(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    pool: SessionPool,
    cipher: FieldCipher,
    ru_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, ru_user.message("Какая погода будет в Алматы 25.11.2026?"))
    assert session.last_text() == translator.get("ru", "questions-fallback")
    assert session.sent()[-1].reply_markup is None
    async with pool() as s:
        logged = (await s.scalars(select(UnansweredQuestion))).all()
    assert [cipher.decrypt(q.text_enc, "unanswered.text") for q in logged] == [
        "Какая погода будет в Алматы <date>?"
    ]
    assert "погода".encode() not in logged[0].text_enc


async def test_secret_in_question_is_deleted_warned_and_not_stored(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    pool: SessionPool,
    ru_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, ru_user.message("мой ИИН 850101300012 пароль Qwerty123, помогите"))
    assert session.sent(DeleteMessage), "the message with a secret must be deleted"
    assert session.last_text() == translator.get("ru", "questions-secret-warning")
    async with pool() as s:
        assert (await s.scalars(select(UnansweredQuestion))).all() == []


async def test_faq_menu_and_topic_button(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    kk_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, kk_user.message("/faq"))
    assert session.last_text() == translator.get("kk", "questions-faq-title")
    sections = keyboard(session)
    assert [data for _, data in sections] == [f"faqs:{s}" for s in QA.kb.sections]
    label, data = next(b for b in sections if b[1] == "faqs:loss-fraud")
    assert label == translator.get("kk", "btn-faq-section-loss-fraud")
    await dp.feed_update(bot, kk_user.callback(data))
    assert session.last_text() == translator.get("kk", "questions-faq-section", section=label)
    buttons = keyboard(session)
    assert buttons[-1] == (translator.get("kk", "btn-faq-sections"), "menu:faq")
    title, data = next(b for b in buttons if b[1] == "topic:revoke")
    assert title == QA.kb.text("revoke", "kk").title
    await dp.feed_update(bot, kk_user.callback(data))
    assert session.last_text() == answer_of("revoke", "kk")


async def test_faq_sections_reach_every_topic_once(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    ru_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, ru_user.message("/faq"))
    reached: list[str] = []
    for _, section in keyboard(session):
        await dp.feed_update(bot, ru_user.callback(section))
        topics = keyboard(session)[:-1]
        assert len(topics) <= 8, "a section should stay short enough to scan"
        reached += [data.removeprefix("topic:") for _, data in topics]
    assert sorted(reached) == sorted(QA.kb.topics)
    await dp.feed_update(bot, ru_user.callback("menu:faq"))
    assert session.last_text() == translator.get("ru", "questions-faq-title")
    await dp.feed_update(bot, ru_user.callback("faqs:no-such-section"))
    assert session.last_text() == translator.get("ru", "stale-button")


async def test_forged_topic_is_stale(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    ru_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, ru_user.callback("topic:../../etc"))
    assert session.last_text() == translator.get("ru", "stale-button")


async def test_one_vote_per_answer_and_admin_stats(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    pool: SessionPool,
    ru_user: UpdateFactory,
) -> None:
    await dp.feed_update(bot, ru_user.message("как отозвать эцп"))
    down = next(data for label, data in keyboard(session) if label == "👎")
    pressed = ru_user.callback(down).callback_query
    assert pressed is not None and pressed.message is not None
    await dp.feed_update(bot, ru_user.callback(down, message=pressed.message))  # type: ignore[arg-type]
    await dp.feed_update(bot, ru_user.callback(down, message=pressed.message))  # type: ignore[arg-type]
    answers = [r.text for r in session.requests if isinstance(r, AnswerCallbackQuery)]
    assert answers[-2:] == [
        translator.get("ru", "questions-thanks-feedback"),
        translator.get("ru", "questions-already-rated"),
    ]
    async with pool() as s:
        votes = (await s.scalars(select(Feedback))).all()
    assert {(v.topic, v.helpful) for v in votes} == {("revoke", False)}
    admin = UpdateFactory(777, "ru")
    await dp.feed_update(bot, admin.message("/stats"))
    assert translator.get("ru", "stats-feedback-line", topic="revoke", up=0, down=1) in (
        session.last_text()
    )


def group_message(who: UpdateFactory, text: str, **extra: Any) -> Any:
    group = Chat(id=-100777, type="supergroup", title="Бухгалтерия")
    return who.message(text, chat=group, **extra)


async def test_group_answers_only_when_addressed(
    dp: Dispatcher, bot: Bot, session: RecordingSession, ru_user: UpdateFactory
) -> None:
    await dp.feed_update(bot, group_message(ru_user, "как продлить эцп?"))
    assert session.sent(SendMessage) == []
    text = "@kilt_test_bot как продлить эцп?"
    mention = [MessageEntity(type="mention", offset=0, length=len("@kilt_test_bot"))]
    await dp.feed_update(bot, group_message(ru_user, text, entities=mention))
    assert session.last_text() == answer_of("renew", "ru")
    assert session.sent()[-1].chat_id == -100777
    bot_msg = Message(
        message_id=9,
        date=0,
        chat=Chat(id=-100777, type="supergroup"),
        from_user=BOT_USER,
        text="…",
    )
    await dp.feed_update(
        bot, group_message(ru_user, "а если ключ потерял?", reply_to_message=bot_msg)
    )
    assert session.last_text() == answer_of("lost-or-stolen", "ru")


async def test_greeting_and_thanks_get_a_friendly_word_not_the_fallback(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    kk_user: UpdateFactory,
    pool: SessionPool,
) -> None:
    await dp.feed_update(bot, kk_user.message("Сәлеметсіз бе!"))
    assert session.last_text() == translator.get("kk", "questions-greeting")
    await dp.feed_update(bot, kk_user.message("рахмет"))
    assert session.last_text() == translator.get("kk", "questions-thanks-reply")
    # A longer text that starts with a greeting is still a question.
    await dp.feed_update(bot, kk_user.message("привет, как продлить эцп онлайн?"))
    assert session.last_text().startswith(answer_of("renew", "ru"))
    async with pool() as s:
        assert (await s.scalars(select(UnansweredQuestion))).all() == []


async def test_long_stats_are_split_under_telegram_limit(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    pool: SessionPool, cipher: FieldCipher, clock: Any,
) -> None:
    async with pool() as s:
        repos = Repos.build(s, cipher)
        for i in range(10):
            # Stored texts are capped at 300 characters, but escaping "<" for HTML quadruples.
            text = (f"вопрос {'абвгдеёжзи'[i]} " + "<script>" * 40)[:300]
            await repos.questions.log_unanswered(text, "ru", 0.1, clock.now, INLINE)
        await s.commit()
    await dp.feed_update(bot, UpdateFactory(777, "ru").message("/stats"))
    parts = session.texts()
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert parts[0].startswith(translator.get("ru", "stats-title"))
