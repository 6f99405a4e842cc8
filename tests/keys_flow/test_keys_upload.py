"""Certificate upload pre-fills the dialog; private keys are refused (and deleted) in any state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import date

import pytest
from aiogram import Bot, Dispatcher
from aiogram.enums import ChatAction
from aiogram.exceptions import ClientDecodeError, TelegramBadRequest
from aiogram.methods import DeleteMessage, GetFile, SendChatAction, SendMessage, TelegramMethod
from aiogram.types import Update

from bot.i18n import Translator
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.keys.certgen import (
    TEST_BIN,
    TEST_IIN,
    der,
    make_cert,
    make_p12,
    pem,
    private_key_der,
    private_key_pem,
    raw_certificate,
)
from tests.keys_flow.flow import Chat, keys_of
from tests.support.db import stored_bytes
from tests.support.telegram import RecordingSession, UpdateFactory

ChatFor = Callable[..., Chat]
START = dt.datetime(2025, 6, 1, 4, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)


@pytest.fixture
def chat_for(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator
) -> ChatFor:
    def make(lang: str, user_id: int = 4001) -> Chat:
        return Chat(dp, bot, session, UpdateFactory(user_id, lang), translator, lang)
    return make


async def upload(chat: Chat, name: str, data: bytes, mime: str | None = None) -> Update:
    update = chat.who.document(name, mime, size=len(data))
    assert update.message is not None and update.message.document is not None
    chat.session.files[update.message.document.file_id] = data
    await chat.feed(update)
    return update


def texts(session: RecordingSession) -> list[str]:
    return [m.text for m in session.sent(SendMessage)]


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_certificate_prefills_the_dialog(
    chat_for: ChatFor, lang: str, pool: SessionPool, cipher: FieldCipher, db_url: str
) -> None:
    chat = chat_for(lang)
    await chat.consent()
    cert, _ = make_cert(purpose="auth", not_before=START, not_after=END)
    await upload(chat, "AUTH_RSA256_abc.cer", der(cert))
    assert chat.session.sent(GetFile), "the certificate was downloaded"
    shown = texts(chat.session)[-2]
    assert shown.startswith(chat.t("keys-cert-read"))
    assert chat.t("keys-cert-iin", value="85••••••••" + TEST_IIN[-2:]) in shown
    assert TEST_IIN not in "".join(texts(chat.session))
    assert chat.t("keys-cert-dates", start="01.06.2025", end="01.06.2026") in shown
    # Dates, purpose and holder came from the certificate: only kind, place, label remain.
    assert chat.session.last_text() == chat.t("keys-ask-kind")
    assert await chat.press("btn-keys-kind-file") == chat.t("keys-ask-storage")
    assert await chat.press("btn-keys-skip") == chat.t("keys-ask-label")
    summary = await chat.send("AUTH")
    assert "01.06.2026" in summary and chat.t("keys-purpose-auth") in summary
    await chat.press("btn-keys-save")
    [key] = await keys_of(pool, cipher, 4001)
    assert (key.issued_on, key.expires_on, key.purpose) == (
        date(2025, 6, 1), date(2026, 6, 1), "auth")
    assert key.cert_info is not None and key.cert_info["iin_masked"].startswith("85••")
    # The clear IIN is nowhere in the database (on SQLite: in the file itself).
    assert TEST_IIN.encode() not in await stored_bytes(pool, db_url)


@pytest.mark.parametrize("fails", [None, "refused", "undecodable"])
async def test_reading_a_certificate_shows_typing_first(
    chat_for: ChatFor, fails: str | None
) -> None:
    """The download and parse take two round trips more than any other reply: "typing…" goes
    out before them, and a chat action that fails (Telegram's 400, an answer that is not
    JSON) changes nothing else."""
    chat = chat_for("kk")
    await chat.consent()
    chat.session.clear()
    if fails:
        def refuse(method: TelegramMethod[object]) -> Exception | None:
            if not isinstance(method, SendChatAction):
                return None
            if fails == "refused":
                return TelegramBadRequest(method=method, message="Bad Request: not allowed")
            return ClientDecodeError("not JSON", ValueError("<html>"), "<html>")
        chat.session.failures.append(refuse)
    cert, _ = make_cert(purpose="auth", not_before=START, not_after=END)
    await upload(chat, "AUTH_RSA256_abc.cer", der(cert))
    kinds = [type(m) for m in chat.session.requests]
    if fails:
        assert SendChatAction not in kinds
    else:
        assert kinds[:2] == [SendChatAction, GetFile]
        [action] = chat.session.sent(SendChatAction)
        assert action.action == ChatAction.TYPING and action.chat_id == chat.who.chat.id
    assert chat.session.texts()[-2].startswith(chat.t("keys-cert-read"))
    assert chat.session.last_text() == chat.t("keys-ask-kind")


async def test_pem_sign_certificate_of_a_company(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher
) -> None:
    chat = chat_for("ru")
    await chat.consent()
    cert, _ = make_cert(purpose="sign", organization='ТОО "АЛЬФА"', bin_=TEST_BIN,
                        not_before=START, not_after=END)
    await upload(chat, "RSA256_abc.pem", pem(cert))
    await chat.press("btn-keys-kind-token")
    await chat.send("в сейфе")
    await chat.send("Подпись Альфа")
    await chat.press("btn-keys-save")
    [key] = await keys_of(pool, cipher, 4001)
    assert (key.holder, key.company, key.purpose) == ("legal", 'ТОО "АЛЬФА"', "sign_rsa")
    assert key.cert_info is not None and key.cert_info["bin"] == TEST_BIN


async def test_gost_certificate_gives_dates_via_the_lenient_reader(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher
) -> None:
    chat = chat_for("kk")
    await chat.consent()
    await upload(chat, "GOST512_x.cer", raw_certificate())
    assert chat.session.last_text() == chat.t("keys-ask-kind")
    await chat.press("btn-keys-kind-id_card")
    await chat.press("btn-keys-skip")
    await chat.send("ГОСТ")
    await chat.press("btn-keys-save")
    [key] = await keys_of(pool, cipher, 4001)
    assert key.purpose == "sign_gost" and key.expires_on == date(2025, 6, 1)


async def test_unreadable_certificate_falls_back_to_manual_entry(chat_for: ChatFor) -> None:
    chat = chat_for("ru")
    await chat.consent()
    await upload(chat, "broken.cer", b"\x30\x03\x02\x01\x00 not a certificate")
    assert texts(chat.session)[-2:] == [chat.t("keys-upload-unreadable"), chat.t("keys-ask-kind")]


@pytest.mark.parametrize(("name", "mime"), [
    ("AUTH_RSA256_abc.p12", "application/x-pkcs12"), ("key.pfx", None),
    ("private.key", "application/octet-stream"), ("GOSTKNCA_123", None),
])
@pytest.mark.parametrize("consented", [True, False])
async def test_private_key_files_are_refused_without_download(
    chat_for: ChatFor, name: str, mime: str | None, consented: bool
) -> None:
    chat = chat_for("kk")
    if consented:
        await chat.consent()
    chat.session.clear()
    update = await upload(chat, name, make_p12())
    assert not chat.session.sent(GetFile), "a private key must never be downloaded"
    [deleted] = chat.session.sent(DeleteMessage)
    assert update.message is not None and deleted.message_id == update.message.message_id
    assert chat.session.last_text() == chat.t("keys-secret-refused")


async def test_private_key_disguised_as_certificate_is_refused_after_reading(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher
) -> None:
    chat = chat_for("ru")
    await chat.consent()
    await upload(chat, "mycert.cer", private_key_der())
    assert chat.session.sent(DeleteMessage)
    assert chat.session.last_text() == chat.t("keys-secret-refused")
    await upload(chat, "mycert.pem", private_key_pem("ec"))
    assert chat.session.last_text() == chat.t("keys-secret-refused")
    assert await keys_of(pool, cipher, 4001) == []


async def test_private_key_text_is_deleted_in_any_state(chat_for: ChatFor) -> None:
    chat = chat_for("ru")
    await chat.send("/start")  # no consent needed
    await chat.send(private_key_pem("ec").decode())
    assert chat.session.sent(DeleteMessage)
    assert chat.session.last_text() == chat.t("keys-secret-refused")
    await chat.press("btn-consent-yes")
    await chat.send("/addkey")
    await chat.press("btn-keys-kind-file")
    await chat.press("btn-keys-holder-individual")
    await chat.press("btn-keys-purpose-auth")
    await chat.press("btn-keys-today")
    await chat.press(chat.t("btn-keys-expiry_ok", date="02.03.2027"))
    # Pasted into the storage-note step: refused, and the dialog waits on the same step.
    assert await chat.send("ключ: " + private_key_pem("ec").decode()) == chat.t(
        "keys-secret-refused")
    assert await chat.send("в сейфе") == chat.t("keys-ask-label")


async def test_too_old_message_cannot_be_deleted_user_is_asked_to(chat_for: ChatFor) -> None:
    chat = chat_for("kk")

    def refuse_delete(method: TelegramMethod[object]) -> Exception | None:
        if isinstance(method, DeleteMessage):
            return TelegramBadRequest(method, "message can't be deleted")
        return None

    chat.session.failures.append(refuse_delete)
    await upload(chat, "key.p12", make_p12())
    assert chat.session.last_text() == (
        chat.t("keys-secret-refused") + "\n\n" + chat.t("keys-secret-delete-yourself"))


async def test_size_limit_unknown_types_and_consent(chat_for: ChatFor) -> None:
    chat = chat_for("ru")
    await upload(chat, "cert.cer", b"x" * 10)
    assert chat.session.last_text() == chat.t("consent-required")
    assert not chat.session.sent(GetFile)
    await chat.consent()
    await upload(chat, "big.cer", b"0" * (64 * 1024 + 1))
    assert chat.session.last_text() == chat.t("keys-upload-too-big", limit=64)
    await upload(chat, "photo.jpg", b"\xff\xd8\xff", "image/jpeg")
    assert chat.session.last_text() == chat.t("keys-upload-unknown")
    assert not chat.session.sent(GetFile)


async def test_long_pasted_private_key_is_deleted_not_just_too_long(chat_for: ChatFor) -> None:
    """Regression: an RSA-4096 PEM (over the 2000-character input limit) was answered
    "too long" and left in the chat instead of being deleted."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    pem_text = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    assert len(pem_text) > 2000
    chat = chat_for("kk")
    await chat.send(pem_text)
    assert chat.session.sent(DeleteMessage)
    assert chat.session.last_text() == chat.t("keys-secret-refused")


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_saving_an_expired_key_says_a_new_one_is_needed(chat_for: ChatFor, lang: str) -> None:
    """An expired certificate was saved with "I'll remind you before it expires": misleading."""
    chat = chat_for(lang)
    await chat.consent()
    cert, _ = make_cert(
        purpose="auth",
        not_before=dt.datetime(2024, 3, 15, tzinfo=dt.UTC),
        not_after=dt.datetime(2025, 3, 15, tzinfo=dt.UTC),
    )
    await upload(chat, "old.cer", der(cert))
    await chat.press("btn-keys-kind-file")
    await chat.press("btn-keys-skip")
    await chat.send("Old key")
    saved = await chat.press("btn-keys-save")
    assert saved.endswith(chat.t("keys-saved-expired"))
    assert chat.t("keys-saved-will-remind") not in saved
