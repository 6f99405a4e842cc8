"""Every button press is answered; a brisk dialog never meets the throttle; text floods do."""

from __future__ import annotations

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery

from bot.app import build_dispatcher
from bot.config import Settings
from bot.i18n import Translator
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.conftest import FakeClock
from tests.keys_flow.flow import Chat, keys_of
from tests.support.telegram import RecordingSession, UpdateFactory


@pytest.fixture
def default_dp(
    settings: Settings, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    clock: FakeClock,
) -> Dispatcher:
    """The dispatcher with the production default of 30 messages a minute."""
    real = settings.model_copy(update={"throttle_per_minute": 30})
    return build_dispatcher(real, pool, cipher, translator, clock)


async def test_25_quick_taps_are_all_answered(
    default_dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator
) -> None:
    user = UpdateFactory(8301, "ru")
    for _ in range(25):
        await default_dp.feed_update(bot, user.callback("menu:faq"))
    answers = session.sent(AnswerCallbackQuery)
    assert len(answers) == 25
    assert translator.get("ru", "throttled") not in [a.text for a in answers]


async def test_a_tap_flood_is_answered_with_the_slow_down_text(
    default_dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator
) -> None:
    user = UpdateFactory(8302, "kk")
    for _ in range(60):
        await default_dp.feed_update(bot, user.callback("old:button"))
    answers = session.sent(AnswerCallbackQuery)
    assert len(answers) == 60  # not one button left spinning
    throttled = [a for a in answers if a.text == translator.get("kk", "throttled")]
    assert 20 <= len(throttled) < 60


async def test_brisk_addkey_with_back_presses_never_meets_the_throttle(
    default_dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator,
    pool: SessionPool, cipher: FieldCipher,
) -> None:
    chat = Chat(default_dp, bot, session, UpdateFactory(8303, "kk"), translator, "kk")
    await chat.consent()  # a message and a tap
    await chat.send("/addkey")
    for button in ("btn-keys-kind-file", "btn-keys-holder-legal"):
        await chat.press(button)
    await chat.send("ЖШС Тест")
    for button in ("btn-keys-skip", "btn-keys-purpose-auth", "btn-keys-back",
                   "btn-keys-purpose-sign_rsa", "btn-keys-today", "btn-keys-back",
                   "btn-keys-today"):
        await chat.press(button)
    await chat.press(chat.buttons()[0][0])  # the proposed expiry date
    await chat.press("btn-keys-skip")
    await chat.press(chat.buttons()[0][0])  # the suggested label
    await chat.press("btn-keys-save")
    taps = session.sent(AnswerCallbackQuery)
    assert len(taps) == 14
    assert chat.t("throttled") not in session.texts() + [a.text for a in taps]
    assert len(await keys_of(pool, cipher, 8303)) == 1


async def test_text_flood_is_still_throttled_and_others_are_served(
    default_dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator
) -> None:
    flooder, other = UpdateFactory(8304, "ru"), UpdateFactory(8305, "ru")
    for _ in range(20):
        await default_dp.feed_update(bot, flooder.message("/help"))
    await default_dp.feed_update(bot, other.message("/help"))
    texts = session.texts()
    assert texts.count(translator.get("ru", "throttled")) == 1
    assert texts.count(translator.get("ru", "help-text")) == 10 + 1  # burst, then the other user
    assert texts[-1] == translator.get("ru", "help-text")
