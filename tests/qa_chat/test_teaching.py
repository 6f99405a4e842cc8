"""Learning from real questions through the real Dispatcher: a user's unanswered question is
kept redacted and encrypted, an admin teaches it from /stats, the next user gets the answer."""

from __future__ import annotations

import html
import os
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import AnswerCallbackQuery, SendDocument
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from sqlalchemy import inspect, select

from bot.app import build_dispatcher
from bot.broadcast.engine import BroadcastEngine
from bot.config import Settings
from bot.delivery.pacer import LocalPacer
from bot.i18n import Translator
from bot.job_context import JobContext
from bot.learning import LearnedLoader, purge_unanswered
from bot.scheduler import build_scheduler
from handlers.teach.ui import LpMenu, LpRemove, TqAttach, TqOut, TqTopic
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.models import AuditEntry, LearnedPhrasing, UnansweredQuestion
from tests.conftest import ADMIN_ID, FakeClock
from tests.support.db import stored_bytes
from tests.support.telegram import RecordingSession, UpdateFactory

ASKED = "Меня зовут Айгерим, мой телефон 87011234567, на госуслугах висит чужое заявление, что это?"
STORED = "Меня зовут <name>, мой телефон <phone>, на госуслугах висит чужое заявление, что это?"
# The same question from someone else: other name, other number.
ASKED_AGAIN = (
    "меня зовут Асхат, мой телефон +7 777 111 22 33 - на госуслугах висит чужое заявление, что это"
)
KK_ASKED = "Мен Айгерім, нөмірім 87011234567. Әжеме зейнетақы рәсімдеуге бола ма?"
KK_STORED = "Мен <name>, нөмірім <phone>. Әжеме зейнетақы рәсімдеуге бола ма?"


class Chat:
    """One person talking to the dispatcher."""

    def __init__(self, dp: Dispatcher, bot: Bot, session: RecordingSession, user_id: int,
                 lang: str = "ru") -> None:
        self.dp, self.bot, self.session = dp, bot, session
        self.tg = UpdateFactory(user_id=user_id, language_code=lang)

    async def say(self, text: str) -> str:
        await self.dp.feed_update(self.bot, self.tg.message(text))
        return self.session.last_text()

    async def press(self, data: CallbackData | str) -> None:
        packed = data if isinstance(data, str) else data.pack()
        await self.dp.feed_update(self.bot, self.tg.callback(packed))

    def alert(self) -> str:
        answers = self.session.sent(AnswerCallbackQuery)
        return str(answers[-1].text)

    def buttons(self) -> list[tuple[str, str]]:
        markup = self.session.sent()[-1].reply_markup
        assert isinstance(markup, InlineKeyboardMarkup)
        return [(b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row]


@pytest.fixture
def admin(dp: Dispatcher, bot: Bot, session: RecordingSession) -> Chat:
    return Chat(dp, bot, session, ADMIN_ID)


@pytest.fixture
def user(dp: Dispatcher, bot: Bot, session: RecordingSession) -> Chat:
    return Chat(dp, bot, session, 1001)


async def stored_rows(pool: SessionPool, model: Any) -> list[Any]:
    async with pool() as s:
        return list(await s.scalars(select(model).order_by(model.id)))


async def raw_database(pool: SessionPool, db_url: str) -> bytes:
    return await stored_bytes(pool, db_url)


def question_id(admin: Chat, n: int = 1) -> int:
    """The question id behind the n-th "→ topic" button of the last /stats."""
    attach = [data for _, data in admin.buttons() if data.startswith("tq:")]
    return TqAttach.unpack(attach[n - 1]).id


async def test_unanswered_question_is_redacted_encrypted_and_unlinked(
    user: Chat, pool: SessionPool, cipher: FieldCipher, db_url: str, translator: Translator
) -> None:
    assert await user.say(ASKED) == translator.get("ru", "questions-fallback")
    [row] = await stored_rows(pool, UnansweredQuestion)
    assert cipher.decrypt(row.text_enc, "unanswered.text") == STORED
    columns = {c.name for c in inspect(UnansweredQuestion).columns}
    assert columns == {"id", "text_enc", "group_key", "lang", "score", "asked_at"}
    raw = await raw_database(pool, db_url)
    for needle in ("госуслугах", "заявление", "Айгерим", "87011234567", STORED):
        assert needle.encode("utf-8") not in raw, needle


async def test_admin_attaches_a_question_and_the_next_user_gets_that_answer(
    admin: Chat, user: Chat, dp: Dispatcher, bot: Bot, session: RecordingSession,
    translator: Translator, pool: SessionPool, cipher: FieldCipher, db_url: str,
    settings: Settings, clock: FakeClock,
) -> None:
    t = translator.for_lang("ru")
    await Chat(dp, bot, session, 1003).say(ASKED_AGAIN)
    await user.say(ASKED)  # /stats shows a group's latest wording
    stats = await admin.say("/stats")
    assert t("teach-unanswered-line", n=1, text=STORED, count=2) in html.unescape(stats)
    qid = question_id(admin)
    await admin.press(TqAttach(id=qid))
    qa = dp["qa"]
    topics = [b for b in admin.buttons() if b[1].startswith("tqt:")]
    assert [label for label, _ in topics] == [qa.kb.text(k, "ru").title for k in qa.kb.topics]
    await admin.press(TqTopic(id=qid, topic="fraud"))
    assert session.last_text() == t("teach-attached", text=STORED.replace("<", "&lt;").replace(
        ">", "&gt;"), topic=qa.kb.text("fraud", "ru").title)
    assert await stored_rows(pool, UnansweredQuestion) == []  # both repeats are decided
    [learned] = await stored_rows(pool, LearnedPhrasing)
    assert (learned.topic, learned.lang) == ("fraud", "ru")
    assert learned.created_by == cipher.blind_index(ADMIN_ID)
    assert cipher.decrypt(learned.text_enc, "learned.text") == STORED
    assert "госуслугах".encode() not in await raw_database(pool, db_url)
    [audit] = await stored_rows(pool, AuditEntry)
    assert audit.action == "qa.learn" and "госуслуг" not in audit.details

    # The next person asking it (other name, other number) gets the fraud answer, logged nowhere.
    third = Chat(dp, bot, session, 1004)
    assert await third.say(ASKED.replace("Айгерим", "Дана")) == qa.kb.text("fraud", "ru").answer
    assert await stored_rows(pool, UnansweredQuestion) == []
    assert t("teach-unanswered-none") in await admin.say("/stats")

    # After a restart the phrasings are loaded from the database before the first question.
    restarted = build_dispatcher(settings, pool, cipher, translator, clock)
    assert restarted["qa"].answer(ASKED, "ru").topic is None
    loader = LearnedLoader(restarted["qa"], pool, cipher)
    assert await loader.refresh() and not await loader.refresh()  # unchanged: not reloaded
    assert restarted["qa"].answer(ASKED, "ru").topic == "fraud"


async def test_out_of_scope_question_falls_back_and_is_not_logged_again(
    admin: Chat, dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    pool: SessionPool,
) -> None:
    kk_user = Chat(dp, bot, session, 1002, "kk")
    kk_admin = Chat(dp, bot, session, ADMIN_ID, "kk")
    assert await kk_user.say(KK_ASKED) == translator.get("kk", "questions-fallback")
    await kk_admin.say("/stats")
    await kk_admin.press(TqOut(id=question_id(kk_admin)))
    escaped = KK_STORED.replace("<", "&lt;").replace(">", "&gt;")
    assert session.last_text() == translator.get("kk", "teach-marked-out", text=escaped)
    [learned] = await stored_rows(pool, LearnedPhrasing)
    assert (learned.topic, learned.lang) == (None, "kk")
    assert await kk_user.say(KK_ASKED) == translator.get("kk", "questions-fallback")
    assert await stored_rows(pool, UnansweredQuestion) == []
    # A second tap on the same button: already decided.
    await kk_admin.press(TqOut(id=learned.id))
    assert session.last_text() == translator.get("kk", "teach-already-done")


async def test_list_remove_and_export_learned_phrasings(
    admin: Chat, user: Chat, dp: Dispatcher, bot: Bot, session: RecordingSession,
    translator: Translator, pool: SessionPool,
) -> None:
    t = translator.for_lang("ru")
    assert await admin.say("/learned") == t("teach-learned-none")
    await Chat(dp, bot, session, 1002, "kk").say(KK_ASKED)
    await user.say(ASKED)  # as often as the other, and newer: listed first
    await admin.say("/stats")
    first, second = question_id(admin, 1), question_id(admin, 2)
    await admin.press(TqTopic(id=first, topic="fraud"))
    await admin.press(TqOut(id=second))

    await admin.press(LpMenu(action="export"))
    [doc] = session.sent(SendDocument)
    assert isinstance(doc.document, BufferedInputFile)
    assert doc.document.filename == "learned_phrasings.tsv"
    assert doc.caption == t("teach-export-caption", count=2)
    assert doc.document.data.decode("utf-8").splitlines() == [
        "form\ttopic\tquestion", f"ru\tfraud\t{STORED}", f"kk\tnone\t{KK_STORED}",
    ]

    listing = await admin.say("/learned")
    assert listing.startswith(t("teach-learned-title", count=2))
    assert t("teach-out-of-scope") in listing and dp["qa"].kb.text("fraud", "ru").title in listing
    removals = [data for _, data in admin.buttons() if data.startswith("lpr:")]
    assert len(removals) == 2
    fraud_id = next(r.id for r in await stored_rows(pool, LearnedPhrasing) if r.topic == "fraud")
    await admin.press(LpRemove(id=fraud_id))
    escaped = STORED.replace("<", "&lt;").replace(">", "&gt;")
    assert session.last_text() == t("teach-removed", text=escaped)
    assert [r.topic for r in await stored_rows(pool, LearnedPhrasing)] == [None]
    await admin.press(LpRemove(id=fraud_id))
    assert session.last_text() == t("teach-already-done")
    # Forgotten: the matcher decides again, and the question is logged for admins again.
    assert await user.say(ASKED) == t("questions-fallback")
    assert len(await stored_rows(pool, UnansweredQuestion)) == 1


async def test_retention_purge_follows_the_clock_and_the_setting(
    user: Chat, bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    settings: Settings, clock: FakeClock, pacer: LocalPacer, broadcasts: BroadcastEngine,
) -> None:
    ctx = JobContext(bot, pool, cipher, translator, settings, clock, pacer, broadcasts)
    await user.say(ASKED)
    clock.advance(days=10)
    await user.say(KK_ASKED)
    clock.advance(days=settings.unanswered_retention_days - 10, seconds=-1)
    assert await purge_unanswered(ctx) == 0
    clock.advance(seconds=2)
    assert await purge_unanswered(ctx) == 1
    [left] = await stored_rows(pool, UnansweredQuestion)
    assert cipher.decrypt(left.text_enc, "unanswered.text") == KK_STORED
    short = JobContext(bot, pool, cipher, translator,
                       settings.model_copy(update={"unanswered_retention_days": 30}), clock,
                       pacer, broadcasts)
    assert await purge_unanswered(short) == 1
    assert await stored_rows(pool, UnansweredQuestion) == []
    jobs = {job.id for job in build_scheduler(ctx).get_jobs()}
    assert "unanswered-purge" in jobs


def test_retention_setting_default_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import ConfigError, load_settings

    monkeypatch.chdir(os.path.dirname(__file__))  # no .env here
    assert load_settings().unanswered_retention_days == 90
    monkeypatch.setenv("UNANSWERED_RETENTION_DAYS", "0")
    with pytest.raises(ConfigError, match="UNANSWERED_RETENTION_DAYS"):
        load_settings()


async def test_non_admins_cannot_use_teaching_commands_or_buttons(
    user: Chat, admin: Chat, translator: Translator, pool: SessionPool,
) -> None:
    t = translator.for_lang("ru")
    await user.say(ASKED)
    assert await user.say("/learned") == t("admin-only")
    assert await user.say("/stats") == t("admin-only")
    [row] = await stored_rows(pool, UnansweredQuestion)
    for data in (TqAttach(id=row.id), TqTopic(id=row.id, topic="fraud"), TqOut(id=row.id),
                 LpMenu(action="export"), LpMenu(action="list"), LpRemove(id=1)):
        await user.press(data)
        assert user.alert() == t("teach-admin-only-button")
    assert user.session.sent(SendDocument) == []
    assert len(await stored_rows(pool, UnansweredQuestion)) == 1
    assert await stored_rows(pool, LearnedPhrasing) == []


async def test_forged_admin_buttons_are_refused(
    user: Chat, admin: Chat, translator: Translator, pool: SessionPool,
) -> None:
    t = translator.for_lang("ru")
    await user.say(ASKED)
    [row] = await stored_rows(pool, UnansweredQuestion)
    await admin.press(TqTopic(id=row.id, topic="../../etc"))
    assert admin.alert() == t("teach-unknown-topic")
    await admin.press("tqt:abc:fraud")
    assert admin.alert() == t("stale-button")
    await admin.press(LpMenu(action="drop-tables"))
    assert admin.alert() == t("stale-button")
    await admin.press(TqAttach(id=row.id + 100))
    assert admin.session.last_text() == t("teach-already-done")
    assert len(await stored_rows(pool, UnansweredQuestion)) == 1
    assert await stored_rows(pool, LearnedPhrasing) == []
