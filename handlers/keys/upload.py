"""Refusing secrets (private keys as files or text) and reading public certificates.

This router has no consent gate: a private key must be deleted and warned about even
for someone who never agreed to storage. A certificate is read only after consent.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction, ChatType
from aiogram.exceptions import AiogramError, TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.i18n import TextFn
from bot.keys.kinds import KeyHolder, KeyPurpose
from bot.keys.private_keys import classify_upload
from bot.keys.secrets import looks_like_private_key_text
from bot.keys.service import local_today
from bot.texts import clean_text
from handlers.common import delete_quietly
from handlers.keys.add import start_dialog
from handlers.keys.ui import esc, fmt_date
from storage.dto import UserDTO
from storage.repositories import Repos

# Certificate parsing (bot.keys.certificates, cryptography.x509) is imported by the first upload,
# not at start-up: about 30 ms of CPU and 2.5 MB that a bot nobody sent a file does without.
if TYPE_CHECKING:
    from bot.keys.certificates import CertInfo


def has_private_key_text(message: Message) -> bool:
    text = message.text or message.caption
    return bool(text) and looks_like_private_key_text(text or "")


async def refuse_secret(message: Message, t: TextFn) -> None:
    """Delete the message with the secret (if Telegram still allows it) and explain."""
    text = t("keys-secret-refused")
    if not await delete_quietly(message):
        text += "\n\n" + t("keys-secret-delete-yourself")
    await message.answer(text)


def purpose_of(info: CertInfo) -> KeyPurpose | None:
    if info.purposes >= {"auth", "sign"}:
        return KeyPurpose.BOTH
    if "auth" in info.purposes:
        return KeyPurpose.AUTH
    if "sign" in info.purposes:
        return KeyPurpose.SIGN_GOST if info.algorithm == "GOST" else KeyPurpose.SIGN_RSA
    return None


def prefill(info: CertInfo, today: Any) -> dict[str, Any]:
    """Dialog data from a certificate; the steps it answers are skipped."""
    data: dict[str, Any] = {"prefilled": []}
    if info.not_before and info.not_after and info.not_before <= today:
        data.update(issued=info.not_before.isoformat(), expiry=info.not_after.isoformat())
        data["prefilled"] += ["issued", "expiry"]
    if (purpose := purpose_of(info)) is not None:
        data["purpose"] = purpose
        data["prefilled"].append("purpose")
    if info.organization or info.bin:
        company = clean_text(info.organization) if info.organization else None
        data.update(holder=KeyHolder.LEGAL, company=company, bin=info.bin)
        data["prefilled"] += ["holder", "company", "bin"]
    else:
        data["holder"] = KeyHolder.INDIVIDUAL
        data["prefilled"].append("holder")
    cert = {"source": "certificate", "common_name": info.common_name,
            "iin_masked": info.iin_masked, "issuer": info.issuer, "serial": info.serial_hex,
            "algorithm": info.algorithm}
    data["cert"] = {k: clean_text(v) for k, v in cert.items() if v}
    return data


def describe(t: TextFn, info: CertInfo) -> str:
    purposes = ", ".join(t(f"keys-cert-purpose-{p}") for p in sorted(info.purposes)) or "—"
    lines = [t("keys-cert-read"),
             t("keys-cert-owner", value=esc(info.common_name) or "—"),
             t("keys-cert-iin", value=info.iin_masked or "—"),
             t("keys-cert-dates", start=fmt_date(info.not_before), end=fmt_date(info.not_after)),
             t("keys-cert-purposes", value=purposes),
             t("keys-cert-issuer", value=esc(info.issuer) or "—"),
             t("keys-cert-serial", value=info.serial_hex)]
    if not info.is_nuc:
        lines.append(t("keys-cert-not-nuc"))
    return "\n".join(lines)


async def read_certificate(message: Message, bot: Bot, t: TextFn) -> tuple[CertInfo | None, bool]:
    """Download and parse. On failure the user is told why; the flag says whether the
    dialog should go on by hand (an unreadable certificate is not the user's fault)."""
    from bot.keys.certificates import MAX_CERT_BYTES, CertificateError, parse_certificate

    assert message.document is not None
    try:
        raw = (await bot.download(message.document.file_id)).read()  # type: ignore[union-attr]
        info = parse_certificate(raw)
    except CertificateError as e:
        if e.code == "private":
            await refuse_secret(message, t)
            return None, False
        await message.answer(t(f"keys-upload-{e.code}", limit=MAX_CERT_BYTES // 1024))
        return None, e.code == "unreadable"
    except TelegramAPIError:
        await message.answer(t("keys-upload-failed"))
        return None, False
    if info.not_after is None:  # nothing useful recovered
        await message.answer(t("keys-upload-unreadable"))
        return None, True
    return info, False


async def on_document(
    message: Message, bot: Bot, state: FSMContext, t: TextFn, repos: Repos,
    user: UserDTO | None, now: datetime,
) -> None:
    from bot.keys.certificates import MAX_CERT_BYTES

    doc = message.document
    assert doc is not None
    kind = classify_upload(doc.file_name, doc.mime_type, None)
    if kind == "private":  # never downloaded
        await refuse_secret(message, t)
    elif kind == "unknown":
        await message.answer(t("keys-upload-unknown"))
    elif (doc.file_size or 0) > MAX_CERT_BYTES:
        await message.answer(t("keys-upload-too-big", limit=MAX_CERT_BYTES // 1024))
    elif user is None or not user.has_consented:
        await message.answer(t("consent-required"))
    else:
        # Reading takes two more round trips to Telegram (getFile, the download) before the
        # answer: "typing…" shows at once that the file arrived. Only a hint, so not retried.
        with suppress(AiogramError):  # Telegram's refusal, the network, an odd answer
            await bot.send_chat_action(message.chat.id, ChatAction.TYPING)
        info, manual = await read_certificate(message, bot, t)
        if info is not None:
            await message.answer(describe(t, info))
            data = prefill(info, local_today(user, now))
            await start_dialog(bot, message.chat.id, state, t, repos, user, data)
        elif manual:
            await start_dialog(bot, message.chat.id, state, t, repos, user)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(refuse_secret, has_private_key_text)
    router.message.register(on_document, F.document)
    return router
