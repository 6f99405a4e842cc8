"""/addkey through the real Dispatcher: the whole dialog, bad input, Back/Cancel, restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import text

from bot.app import build_dispatcher
from bot.config import Settings
from bot.i18n import Translator
from handlers.common import MenuCallback
from handlers.keys.ui import AddCb
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.conftest import FakeClock
from tests.keys_flow.flow import Chat, add_key, keys_of, user_of
from tests.support.db import stored_bytes
from tests.support.telegram import RecordingSession, UpdateFactory

WORDS = {"ru": ("Мой ЭЦП для налогов", "синяя флешка в сейфе", "сегодня"),
         "kk": ("Жұмыс кілті", "сейфтегі көк флешка", "бүгін")}


ChatFor = Callable[..., Chat]


@pytest.fixture
def chat_for(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator
) -> ChatFor:
    def make(lang: str, user_id: int = 3001) -> Chat:
        return Chat(dp, bot, session, UpdateFactory(user_id, lang), translator, lang)
    return make


async def walk_to(chat: Chat, step: str) -> None:
    """Answer the manual dialog up to (not including) `step`."""
    answers = [("kind", "btn-keys-kind-file"), ("holder", "btn-keys-holder-individual"),
               ("purpose", "btn-keys-purpose-auth"), ("issued", "btn-keys-today")]
    await chat.send("/addkey")
    for name, button in answers:
        if name == step:
            return
        await chat.press(button)


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_whole_dialog_then_mykeys(
    chat_for: ChatFor, lang: str, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    chat: Chat = chat_for(lang)
    label, note, today = WORDS[lang]
    await chat.consent()
    assert await chat.send("/addkey") == chat.t("keys-ask-kind")
    assert await chat.press("btn-keys-kind-file") == chat.t("keys-ask-holder")
    assert await chat.press("btn-keys-holder-individual") == chat.t("keys-ask-purpose")
    assert await chat.press("btn-keys-purpose-both") == chat.t("keys-ask-issued")
    # Today in Almaty is 02.03.2026; a file key is proposed to last one year.
    assert await chat.send(today) == chat.t("keys-ask-expiry", date="02.03.2027")
    assert await chat.press(chat.t("btn-keys-expiry_ok", date="02.03.2027")) == chat.t(
        "keys-ask-storage")
    assert await chat.send(note) == chat.t("keys-ask-label")
    summary = await chat.send(label)
    assert label in summary and note in summary and "02.03.2027" in summary
    saved = await chat.press("btn-keys-save")
    assert saved == chat.t("keys-saved", label=label, date="02.03.2027",
                           status=chat.t("keys-status-valid", days=365)) + "\n" + chat.t(
        "keys-saved-will-remind")
    [key] = await keys_of(pool, cipher, 3001)
    assert (key.kind, key.purpose, key.holder) == ("file", "both", "individual")
    assert (key.issued_on, key.expires_on) == (date(2026, 3, 2), date(2027, 3, 2))
    assert (key.label, key.storage_note) == (label, note)
    listing = await chat.send("/mykeys")
    assert label in listing and chat.t("keys-status-valid", days=365) in listing
    # Adding a key planned its reminders at once.
    async with pool() as s:
        user = await user_of(pool, cipher, 3001)
        pending = await Repos.build(s, cipher).reminders.pending_for_user(user.id)
    assert any(row[2] == key.id for row in pending)


async def test_legal_entity_with_bin_and_suggested_label(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher
) -> None:
    from tests.keys.certgen import TEST_BIN

    chat: Chat = chat_for("ru")
    await chat.consent()
    await chat.send("/addkey")
    await chat.press("btn-keys-kind-token")
    assert await chat.press("btn-keys-holder-legal") == chat.t("keys-ask-company")
    assert await chat.send('ТОО "Альфа", директор') == chat.t("keys-ask-bin")
    assert await chat.send("123456789012") == chat.t("keys-error-bin")
    assert await chat.send(TEST_BIN) == chat.t("keys-ask-purpose")
    await chat.press("btn-keys-purpose-sign_gost")
    await chat.send("15.3.24")
    # A token is proposed for three years.
    assert await chat.send("15.03.2027") == chat.t("keys-ask-storage")
    await chat.press("btn-keys-skip")
    suggested = chat.t("keys-label-suggested", kind=chat.t("keys-kind-token"),
                       purpose=chat.t("keys-purpose-sign_gost"))
    await chat.press(suggested)
    await chat.press("btn-keys-save")
    [key] = await keys_of(pool, cipher, 3001)
    assert key.holder == "legal" and key.company == 'ТОО "Альфа", директор'
    assert key.cert_info == {"bin": TEST_BIN} and key.label == suggested
    assert key.issued_on == date(2024, 3, 15) and key.storage_note is None


@pytest.mark.parametrize(
    ("typed", "error"),
    [("вчера-ish", "keys-date-format"), ("31.02.2025", "keys-date-invalid"),
     ("03.03.2026", "keys-date-future"), ("01.01.2003", "keys-date-too-old")],
)
async def test_bad_issue_dates_are_explained(chat_for: ChatFor, typed: str, error: str) -> None:
    chat: Chat = chat_for("kk")
    await chat.consent()
    await walk_to(chat, "issued")
    # The error comes with the question and its buttons again.
    assert await chat.send(typed) == chat.t(error) + "\n\n" + chat.t("keys-ask-issued")
    assert chat.button("btn-keys-today")
    assert await chat.send("1.3.2025") == chat.t("keys-ask-expiry", date="01.03.2026")


@pytest.mark.parametrize(
    ("typed", "error"),
    [("01.03.2025", "keys-date-before-issue"), ("01.03.2035", "keys-date-too-far")],
)
async def test_bad_expiry_dates_are_explained(chat_for: ChatFor, typed: str, error: str) -> None:
    chat: Chat = chat_for("ru")
    await chat.consent()
    await walk_to(chat, "issued")
    await chat.send("01.03.2025")
    ask = chat.t("keys-ask-expiry", date="01.03.2026")
    assert await chat.send(typed) == chat.t(error) + "\n\n" + ask
    # The proposed expiry is one tap away under the repeated question.
    assert await chat.press(chat.t("btn-keys-expiry_ok", date="01.03.2026")) == chat.t(
        "keys-ask-storage")


@pytest.mark.parametrize(
    ("typed", "error"),
    [("пароль: Qwerty123", "keys-sensitive-password"),
     ("флешка, ИИН 850101300012", "keys-sensitive-iin"),
     ("смс код 123456", "keys-sensitive-code")],
)
async def test_secrets_in_storage_note_are_refused(
    chat_for: ChatFor, typed: str, error: str, pool: SessionPool, cipher: FieldCipher
) -> None:
    chat: Chat = chat_for("ru")
    await chat.consent()
    await walk_to(chat, "expiry")
    await chat.press(chat.t("btn-keys-expiry_ok", date="02.03.2027"))
    assert await chat.send(typed) == chat.t(error)
    assert await chat.send("Qwerty12345") == chat.t("keys-sensitive-password")  # label too
    assert await chat.send("в сейфе") == chat.t("keys-ask-label")
    await chat.send("Налоги")
    await chat.press("btn-keys-save")
    [key] = await keys_of(pool, cipher, 3001)
    assert key.storage_note == "в сейфе"


async def test_back_and_cancel_on_every_step(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher
) -> None:
    chat: Chat = chat_for("ru")
    await chat.consent()
    await walk_to(chat, "issued")
    assert await chat.press("btn-keys-back") == chat.t("keys-ask-purpose")
    assert await chat.press("btn-keys-back") == chat.t("keys-ask-holder")
    assert await chat.press("btn-keys-back") == chat.t("keys-ask-kind")
    assert await chat.press("btn-keys-back") == chat.t("menu-title")
    await walk_to(chat, "purpose")
    assert await chat.press("btn-keys-cancel") == chat.t("keys-cancelled")
    # The dialog is over: its old buttons are stale, typed text is not a label.
    await chat.press_data(AddCb(action="purpose", value="auth").pack())
    assert chat.alerts()[-1] == chat.t("keys-dialog-ended")
    assert await keys_of(pool, cipher, 3001) == []


async def test_buttons_of_another_step_are_stale(chat_for: ChatFor) -> None:
    chat: Chat = chat_for("kk")
    await chat.consent()
    await walk_to(chat, "purpose")
    await chat.press_data(AddCb(action="kind", value="cloud").pack())
    assert chat.alerts()[-1] == chat.t("keys-dialog-moved-on")
    assert chat.session.last_text() == chat.t("keys-ask-purpose")  # asked once, not again
    assert await chat.send("кез келген мәтін") == (
        chat.t("keys-use-buttons") + "\n\n" + chat.t("keys-ask-purpose"))


async def test_dialog_survives_a_restart(
    chat_for: ChatFor, settings: Settings, pool: SessionPool, cipher: FieldCipher,
    translator: Translator, clock: FakeClock, bot: Bot, session: RecordingSession,
) -> None:
    chat: Chat = chat_for("ru")
    await chat.consent()
    await walk_to(chat, "issued")
    await chat.send("01.02.2026")
    # A new process: a fresh dispatcher over the same database.
    chat.dp = build_dispatcher(settings, pool, cipher, translator, clock)
    await chat.press(chat.t("btn-keys-expiry_ok", date="01.02.2027"))
    await chat.send("ноутбук")
    await chat.send("Рабочий")
    await chat.press("btn-keys-save")
    [key] = await keys_of(pool, cipher, 3001)
    assert key.expires_on == date(2027, 2, 1) and key.label == "Рабочий"


async def test_menu_buttons_and_consent_gate(chat_for: ChatFor) -> None:
    chat: Chat = chat_for("kk")
    await chat.send("/addkey")
    assert chat.session.last_text() == chat.t("consent-required")
    await chat.consent()
    await chat.press_data(MenuCallback(action="addkey").pack())
    assert chat.session.last_text() == chat.t("keys-ask-kind")
    await chat.press_data(MenuCallback(action="mykeys").pack())
    assert chat.session.last_text() == chat.t("keys-list-empty")


async def test_limit_of_fifty_keys(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    chat: Chat = chat_for("ru")
    await chat.consent()
    await walk_to(chat, "issued")
    for n in range(50):
        await add_key(pool, cipher, 3001, clock.now, f"k{n}", date(2027, 1, 1))
    await chat.send("01.02.2026")
    await chat.press(chat.t("btn-keys-expiry_ok", date="01.02.2027"))
    await chat.press("btn-keys-skip")
    await chat.send("51-й")
    assert await chat.press("btn-keys-save") == chat.t("keys-limit", limit=50)
    assert await chat.send("/addkey") == chat.t("keys-limit", limit=50)
    assert len(await keys_of(pool, cipher, 3001)) == 50


async def test_database_holds_no_plaintext(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher, db_url: str
) -> None:
    chat: Chat = chat_for("ru")
    await chat.consent()
    await walk_to(chat, "issued")
    await chat.send("01.02.2026")  # mid-dialog: the FSM data is in the database too
    await chat.press(chat.t("btn-keys-expiry_ok", date="01.02.2027"))
    await chat.send("Жёлтая флешка Zebra")
    await chat.send("Ключ Марсианин")
    async with pool() as s:
        dump = repr((await s.execute(text("SELECT * FROM fsm_records"))).all())
    assert "Zebra" not in dump and "Марсианин" not in dump
    await chat.press("btn-keys-save")
    async with pool() as s:
        dump = repr((await s.execute(text("SELECT * FROM keys"))).all())
    assert "Zebra" not in dump and "Марсианин" not in dump
    # Nor does anything the database stores (on SQLite: the file itself, byte for byte).
    raw = await stored_bytes(pool, db_url)
    assert b"Zebra" not in raw and "Марсианин".encode() not in raw


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_misunderstood_date_repeats_question_with_buttons(
    chat_for: ChatFor, lang: str, pool: SessionPool, cipher: FieldCipher
) -> None:
    chat: Chat = chat_for(lang)
    await chat.consent()
    await walk_to(chat, "issued")
    reply = await chat.send("когда-то давно")
    assert reply == chat.t("keys-date-format") + "\n\n" + chat.t("keys-ask-issued")
    labels = [label for label, _ in chat.buttons()]
    assert labels == [chat.t("btn-keys-today"), chat.t("btn-keys-back"),
                      chat.t("btn-keys-cancel")]
    # The button under the repeated question works; a relative word works as well.
    assert await chat.press("btn-keys-today") == chat.t("keys-ask-expiry", date="02.03.2027")
    assert await chat.press("btn-keys-back") == chat.t("keys-ask-issued")
    yesterday = {"kk": "кеше", "ru": "вчера"}[lang]
    assert await chat.send(yesterday) == chat.t("keys-ask-expiry", date="01.03.2027")
    in_a_year = {"kk": "бір жылдан кейін", "ru": "через год"}[lang]
    assert await chat.send(in_a_year) == chat.t("keys-ask-storage")


@pytest.mark.parametrize("user_id", [2**31, 8_123_456_789])
async def test_telegram_ids_beyond_32_bits(
    chat_for: ChatFor, user_id: int, pool: SessionPool, cipher: FieldCipher
) -> None:
    """Telegram user ids no longer fit in 32 bits: the whole dialog, the FSM rows, the one-tap
    claims and /mykeys work with them on both backends (PostgreSQL's INTEGER would overflow)."""
    chat: Chat = chat_for("ru", user_id)
    await chat.consent()
    await walk_to(chat, "none")
    assert await chat.send("01.02.2027") == chat.t("keys-ask-storage")
    await chat.press("btn-keys-skip")
    await chat.send("Ключ большого id")
    assert chat.t("keys-saved-will-remind") in await chat.press("btn-keys-save")
    [key] = await keys_of(pool, cipher, user_id)
    assert key.label == "Ключ большого id" and key.expires_on == date(2027, 2, 1)
    assert (await user_of(pool, cipher, user_id)).tg_id == user_id
    assert "Ключ большого id" in await chat.send("/mykeys")
