"""The /broadcast dialog through the real Dispatcher, as the admin (777) and as others."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlalchemy import select

from bot.broadcast.html_check import plain_text
from bot.config import Settings
from bot.i18n import Translator
from handlers.broadcast import ui
from handlers.broadcast.ui import BcAudience, BcCancel, BcConfirm, BcMenu, BcTip, BcWhen
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.models import AuditEntry
from tests.broadcast_engine.conftest import MakeUsers
from tests.conftest import ADMIN_ID, FakeClock
from tests.support.telegram import RecordingSession, UpdateFactory


class Admin:
    def __init__(self, dp: Dispatcher, bot: Bot, session: RecordingSession, lang: str) -> None:
        self.dp, self.bot, self.session = dp, bot, session
        self.tg = UpdateFactory(user_id=ADMIN_ID, language_code=lang)

    async def say(self, text: str) -> str:
        await self.dp.feed_update(self.bot, self.tg.message(text))
        return self.session.last_text()

    async def press(self, data: Any) -> str:
        await self.dp.feed_update(self.bot, self.tg.callback(data.pack()))
        return self.session.last_text()


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_compose_preview_send_now(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator, lang: str,
    make_users: MakeUsers, pool: SessionPool, cipher: FieldCipher, settings: Settings,
    clock: FakeClock,
) -> None:
    t = translator.for_lang(lang)
    await make_users([11, 12], "kk")
    await make_users([13], "ru")
    admin = Admin(dp, bot, session, lang)
    assert await admin.say("/broadcast") == t("broadcast-menu")
    assert await admin.press(BcMenu(action="compose")) == t("broadcast-ask-kk")
    broken = "<b>Сәлем"
    errors = ui.format_errors(ui.html_errors(broken))
    assert await admin.say(broken) == t("broadcast-html-invalid", errors=errors)
    assert await admin.say("<b>Сәлем</b>, кілтіңізді сақтаңыз!") == t("broadcast-ask-ru")
    assert await admin.say("/skip") == t("broadcast-audience-choose")
    assert session.texts()[-2] == t("broadcast-fallback-warning", missing="ru")
    assert await admin.press(BcAudience(kind="all")) == t("broadcast-when")
    session.clear()
    confirm = await admin.press(BcWhen(later=False))
    texts = session.texts()
    # Preview: each language exactly as sent (ru falls back to the kk text), then the confirm.
    assert texts[:4] == [
        t("broadcast-preview-header", language="kk"), "<b>Сәлем</b>, кілтіңізді сақтаңыз!",
        t("broadcast-preview-header", language="ru"), "<b>Сәлем</b>, кілтіңізді сақтаңыз!",
    ]
    assert confirm == t("broadcast-confirm", audience=t("broadcast-aud-all"), count=3,
                        when=t("broadcast-now"), paid="no")
    assert await admin.press(BcConfirm(action="paid")) == t(
        "broadcast-confirm", audience=t("broadcast-aud-all"), count=3,
        when=t("broadcast-now"), paid="yes")
    session.clear()
    started = await admin.press(BcConfirm(action="send"))
    assert started == t("broadcast-started", id=1, count=3)
    await dp["broadcasts"].wait_idle()
    sent = [m for m in session.sent(SendMessage) if m.chat_id in (11, 12, 13)]
    assert sorted(int(m.chat_id) for m in sent) == [11, 12, 13]
    assert all(m.allow_paid_broadcast for m in sent)
    async with pool() as s:
        audit = list(await s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [a.action for a in audit] == ["broadcast.create", "broadcast.start", "broadcast.done"]
    # The admin is stored as a keyed blind index only (a hex digest may contain "777" by chance,
    # so compare with the index, not with a substring search).
    assert audit[0].admin_index == cipher.blind_index(ADMIN_ID) != str(ADMIN_ID)
    assert str(ADMIN_ID) not in audit[0].details and '"recipients": 3' in audit[0].details


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_tip_schedule_list_and_cancel(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator, lang: str,
    make_users: MakeUsers, settings: Settings,
) -> None:
    t = translator.for_lang(lang)
    await make_users([21], "ru", expires_in=10)
    await make_users([22], "kk")
    admin = Admin(dp, bot, session, lang)
    await admin.say("/broadcast")
    assert await admin.press(BcMenu(action="tip")) == t("broadcast-tip-choose")
    tip = ui.tips_library().ids[0]
    assert await admin.press(BcTip(tip=tip)) == t("broadcast-audience-choose")
    assert await admin.press(BcAudience(kind="expiring")) == t("broadcast-ask-days")
    assert await admin.say("soon") == t("broadcast-days-invalid")
    assert await admin.say("30") == t("broadcast-when")
    tz = settings.bot_timezone
    assert await admin.press(BcWhen(later=True)) == t("broadcast-ask-time", tz=tz)
    assert await admin.say("32.01.2027 10:00") == t("broadcast-time-invalid")
    assert await admin.say("01.03.2026 10:00") == t("broadcast-time-past")
    session.clear()
    confirm = await admin.say("03.03.2026 12:00")
    assert plain_text(session.texts()[1]) == plain_text(ui.tips_library().text(tip, "kk"))
    assert confirm == t("broadcast-confirm", audience=t("broadcast-aud-expiring", days=30),
                        count=1, when="03.03.2026 12:00", paid="no")
    scheduled = await admin.press(BcConfirm(action="send"))
    assert scheduled == t("broadcast-scheduled", id=1, when="03.03.2026 12:00")
    listing = await admin.press(BcMenu(action="list"))
    assert listing == t("broadcast-list-item", id=1, status="scheduled", when="03.03.2026 12:00",
                        audience=t("broadcast-aud-expiring", days=30))
    assert await admin.press(BcCancel(id=1)) == t("broadcast-cancelled", id=1)
    assert await admin.press(BcCancel(id=1)) == t("broadcast-cancel-failed", id=1)
    assert await admin.press(BcMenu(action="list")) == t("broadcast-list-empty")


async def test_abort_and_empty_audience(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
) -> None:
    t = translator.for_lang("ru")
    admin = Admin(dp, bot, session, "ru")
    await admin.say("/broadcast")
    await admin.press(BcMenu(action="compose"))
    await admin.say("/skip")
    assert await admin.say("/skip") == t("broadcast-need-text")
    await admin.say("Текст")
    await admin.say("Текст")
    await admin.press(BcAudience(kind="legal"))
    assert await admin.press(BcWhen(later=False)) == t("broadcast-empty-audience")
    assert await admin.press(BcConfirm(action="abort")) == t("broadcast-aborted")


@pytest.mark.parametrize(("who", "command"), [("ru", "/broadcast"), ("kk", "/stats"),
                                               ("ru", "/stats"), ("kk", "/broadcast")])
async def test_non_admin_is_refused(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    ru_user: UpdateFactory, kk_user: UpdateFactory, who: str, command: str,
) -> None:
    user = ru_user if who == "ru" else kk_user
    await dp.feed_update(bot, user.message(command))
    assert session.last_text() == translator.get(who, "admin-only")
    # Admin buttons pressed by someone else do nothing either.
    session.clear()
    await dp.feed_update(bot, user.callback(BcConfirm(action="send").pack()))
    assert not session.sent(SendMessage)


async def test_double_tap_on_confirm_creates_one_broadcast(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    make_users: MakeUsers, pool: SessionPool,
) -> None:
    import asyncio

    from storage.models import Broadcast

    t = translator.for_lang("ru")
    await make_users([31], "ru")
    admin = Admin(dp, bot, session, "ru")
    await admin.say("/broadcast")
    await admin.press(BcMenu(action="compose"))
    await admin.say("Текст")
    await admin.say("Текст")
    await admin.press(BcAudience(kind="all"))
    await admin.press(BcWhen(later=True))
    await admin.say("03.03.2026 12:00")
    confirm = admin.tg.callback(BcConfirm(action="send").pack())
    # The same button twice, the second while the first is still being handled.
    await asyncio.gather(*(dp.feed_update(bot, confirm) for _ in range(3)))
    async with pool() as s:
        assert len(list(await s.scalars(select(Broadcast)))) == 1
    assert t("broadcast-already-confirmed") in [
        a.text for a in session.sent(AnswerCallbackQuery)]
