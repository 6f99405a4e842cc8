"""One tap, one effect: the same button pressed N times at once, through the real Dispatcher.

No lock is involved (the dispatcher here has no event isolation): the effect happens once
because each change is a conditional update or claims the press's idempotency key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage

from bot.i18n import Translator
from handlers.keys.ui import KeyCb
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.conftest import FakeClock
from tests.keys_flow.flow import Chat, add_key, keys_of
from tests.support.telegram import RecordingSession, UpdateFactory

N = 5
OWNER = 6001
ChatFor = Callable[..., Chat]


@pytest.fixture
def chat(dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator) -> Chat:
    return Chat(dp, bot, session, UpdateFactory(OWNER, "ru"), translator, "ru")


async def press_at_once(chat: Chat, label: str, times: int = N) -> list[str | None]:
    """Press one button `times` times concurrently; the answers to the presses, sorted."""
    data, message_id = chat.button(label)
    start = len(chat.session.requests)
    await asyncio.gather(*(chat.press_data(data, message_id) for _ in range(times)))
    answers = [r for r in chat.session.requests[start:] if isinstance(r, AnswerCallbackQuery)]
    assert len(answers) == times
    return sorted((a.text for a in answers), key=str)


def since(chat: Chat, start: int, kind: type) -> list:  # type: ignore[type-arg]
    return [r for r in chat.session.requests[start:] if isinstance(r, kind)]


async def open_card(chat: Chat, label: str) -> None:
    await chat.send("/mykeys")
    await chat.press(f"1. {label}")


async def test_save_pressed_at_once_stores_one_key(
    chat: Chat, pool: SessionPool, cipher: FieldCipher
) -> None:
    await chat.consent()
    await chat.send("/addkey")
    for button in ("btn-keys-kind-file", "btn-keys-holder-individual", "btn-keys-purpose-auth",
                   "btn-keys-today"):
        await chat.press(button)
    await chat.press(chat.t("btn-keys-expiry_ok", date="02.03.2027"))
    await chat.send("в сейфе")
    await chat.send("Налоги")
    start = len(chat.session.requests)
    answers = await press_at_once(chat, "btn-keys-save")
    assert answers == [None] + [chat.t("keys-already-saved")] * (N - 1)
    assert len(await keys_of(pool, cipher, OWNER)) == 1
    saved = chat.t("keys-saved", label="Налоги", date="02.03.2027",
                   status=chat.t("keys-status-valid", days=365))
    assert [m.text.startswith(saved) for m in since(chat, start, SendMessage)] == [True]
    # Later, too: the summary's Save button stays "already saved", not a second key.
    await chat.press_data(*chat_button_under_summary(chat))
    assert chat.alerts()[-1] == chat.t("keys-already-saved")
    assert len(await keys_of(pool, cipher, OWNER)) == 1


def chat_button_under_summary(chat: Chat) -> tuple[str, int]:
    for message_id, shown in chat.session.screen().items():
        if shown.text.startswith(chat.t("keys-summary-title")):
            data = shown.reply_markup.inline_keyboard[0][0].callback_data
            return data, message_id
    raise AssertionError("no summary")


async def test_used_today_twice_leaves_one_card(
    chat: Chat, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    await chat.consent()
    await add_key(pool, cipher, OWNER, clock.now, "Налоги", date(2026, 9, 1))
    await open_card(chat, "Налоги")
    # A key nobody marked as used does not claim it was used today.
    assert chat.t("keys-field-used", value="—") in chat.last_text()
    start = len(chat.session.requests)
    await chat.press("btn-keys-used")
    await chat.press("btn-keys-used")
    assert chat.alerts()[-2:] == [chat.t("keys-used-noted"), chat.t("keys-used-already")]
    assert since(chat, start, SendMessage) == []  # the card changed in place
    [edit] = since(chat, start, EditMessageText)
    assert chat.t("keys-field-used", value="02.03.2026") in edit.text
    # Pressed N times at once: still one effect and one edit.
    clock.advance(days=1)
    start = len(chat.session.requests)
    answers = await press_at_once(chat, "btn-keys-used")
    assert answers == [chat.t("keys-used-noted")] + [chat.t("keys-used-already")] * (N - 1)
    assert len(since(chat, start, EditMessageText)) == 1
    [key] = await keys_of(pool, cipher, OWNER)
    assert key.last_used_at == clock.now


async def test_delete_pressed_at_once_deletes_once(
    chat: Chat, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    await chat.consent()
    key = await add_key(pool, cipher, OWNER, clock.now, "Старый", date(2026, 9, 1))
    await open_card(chat, "Старый")
    await chat.press("btn-keys-delete")
    start = len(chat.session.requests)
    answers = await press_at_once(chat, "btn-keys-delete-yes")
    assert answers == [None] + [chat.t("keys-already-deleted")] * (N - 1)
    assert [e.text for e in since(chat, start, EditMessageText)] == [
        chat.t("keys-deleted", label="Старый")]
    assert await keys_of(pool, cipher, OWNER) == []
    # Any other button of the old card now says the key was deleted.
    await chat.press_data(KeyCb(action="used", key_id=key.id).pack())
    assert chat.alerts()[-1] == chat.t("keys-gone")


async def test_renewed_pressed_at_once_renews_once(
    chat: Chat, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    await chat.consent()
    await add_key(pool, cipher, OWNER, clock.now, "Налоги", date(2026, 3, 20))
    await open_card(chat, "Налоги")
    await chat.press("btn-keys-renew")
    answers = await press_at_once(chat, chat.t("btn-keys-expiry_ok", date="02.03.2027"))
    assert answers == [None] + [chat.t("keys-already-renewed")] * (N - 1)
    [key] = await keys_of(pool, cipher, OWNER)
    assert key.expires_on == date(2027, 3, 2)
    assert [(old, new) for old, new, _ in key.renewals] == [(date(2026, 3, 20), date(2027, 3, 2))]


async def test_typed_renewal_makes_the_prompt_button_a_repeat(
    chat: Chat, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    await chat.consent()
    await add_key(pool, cipher, OWNER, clock.now, "Налоги", date(2026, 3, 20))
    await open_card(chat, "Налоги")
    await chat.press("btn-keys-renew")
    data, prompt_id = chat.button(chat.t("btn-keys-expiry_ok", date="02.03.2027"))
    assert (await chat.send("20.03.2027")).startswith(chat.t("keys-renewed", date="20.03.2027"))
    await chat.press_data(data, prompt_id)
    assert chat.alerts()[-1] == chat.t("keys-already-renewed")
    [key] = await keys_of(pool, cipher, OWNER)
    assert key.expires_on == date(2027, 3, 20) and len(key.renewals) == 1


async def test_stop_reminders_pressed_at_once_stops_once(
    chat: Chat, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    await chat.consent()
    await add_key(pool, cipher, OWNER, clock.now, "Налоги", date(2026, 9, 1))
    await open_card(chat, "Налоги")
    start = len(chat.session.requests)
    answers = await press_at_once(chat, "btn-keys-stop")
    stopped, already = chat.t("keys-reminders-stopped"), chat.t("keys-reminders-already-stopped")
    assert answers == sorted([stopped] + [already] * (N - 1))
    assert len(since(chat, start, EditMessageText)) == 1
    assert chat.t("keys-field-reminders-off") in chat.last_text()
    [key] = await keys_of(pool, cipher, OWNER)
    assert key.reminders_stopped
