"""/mykeys: statuses, pagination, edit, renew, used today, delete, .ics, and IDOR refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import SendDocument

from bot.i18n import Translator
from bot.reminders.calendar import event_uid
from handlers.keys.ui import EditCb, KeyCb, ListCb
from storage.database import SessionPool
from storage.dto import KeyDTO
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.conftest import FakeClock
from tests.keys_flow.flow import Chat, add_key, keys_of, user_of
from tests.support.telegram import RecordingSession, UpdateFactory

ChatFor = Callable[..., Chat]
OWNER, OTHER = 5001, 5002


@pytest.fixture
def chat_for(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator
) -> ChatFor:
    def make(lang: str, user_id: int = OWNER) -> Chat:
        return Chat(dp, bot, session, UpdateFactory(user_id, lang), translator, lang)
    return make


async def pending(pool: SessionPool, cipher: FieldCipher, key: KeyDTO) -> list[object]:
    async with pool() as s:
        rows = await Repos.build(s, cipher).reminders.pending_for_user(key.user_id)
    return [r for r in rows if r[2] == key.id]


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_list_sorted_by_expiry_with_countdowns(
    chat_for: ChatFor, lang: str, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    chat = chat_for(lang)
    await chat.consent()
    # Today in Almaty: 02.03.2026.
    await add_key(pool, cipher, OWNER, clock.now, "Later", date(2027, 3, 2))
    await add_key(pool, cipher, OWNER, clock.now, "Old", date(2026, 2, 28))
    await add_key(pool, cipher, OWNER, clock.now, "Soon", date(2026, 3, 12))
    await add_key(pool, cipher, OWNER, clock.now, "Now", date(2026, 3, 2))
    listing = await chat.send("/mykeys")
    assert listing.index("Old") < listing.index("Now") < listing.index("Soon") < listing.index(
        "Later")
    assert chat.t("keys-status-expired", days=2) in listing
    assert chat.t("keys-status-today") in listing
    assert chat.t("keys-status-expiring", days=10) in listing
    assert chat.t("keys-status-valid", days=365) in listing


async def test_pagination_beyond_eight(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    chat = chat_for("ru")
    await chat.consent()
    for n in range(10):
        await add_key(pool, cipher, OWNER, clock.now, f"Key{n:02d}", date(2027, 1, 1 + n))
    first = await chat.send("/mykeys")
    assert "Key07" in first and "Key08" not in first
    assert chat.t("keys-list-page", page=1, pages=2) in first
    second = await chat.press("▶️")
    assert "Key08" in second and "Key09" in second and "Key00" not in second


async def test_card_actions_edit_renew_used_where(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    chat = chat_for("ru")
    await chat.consent()
    key = await add_key(pool, cipher, OWNER, clock.now, "Налоги", date(2026, 3, 20),
                        note="в сейфе")
    await chat.send("/mykeys")
    card = await chat.press("1. Налоги")
    assert "Налоги" in card and chat.t("keys-status-expiring", days=18) in card
    assert await chat.press("btn-keys-where") == chat.t("keys-where", label="Налоги",
                                                         note="в сейфе")
    clock.advance(days=3)
    await chat.press("btn-keys-used")
    assert chat.alerts()[-1] == chat.t("keys-used-noted")
    [fresh] = await keys_of(pool, cipher, OWNER)
    assert fresh.last_activity_at == clock.now
    # Edit: a text field, with the same checks as the dialog.
    await chat.press("btn-keys-edit")
    assert await chat.press("btn-keys-field-storage") == chat.t("keys-edit-ask-storage")
    assert await chat.send("PIN 1234 на флешке") == chat.t("keys-sensitive-password")
    card = await chat.send("у бухгалтера")
    assert "Налоги" in card
    await chat.press("btn-keys-edit")
    await chat.press("btn-keys-field-kind")
    await chat.press("btn-keys-kind-token")
    await chat.press("btn-keys-edit")
    await chat.press("btn-keys-field-expiry")
    assert await chat.send("01.01.2020") == chat.t("keys-date-before-issue")
    await chat.send("01.04.2026")
    [fresh] = await keys_of(pool, cipher, OWNER)
    assert (fresh.storage_note, fresh.kind, fresh.expires_on) == (
        "у бухгалтера", "token", date(2026, 4, 1))
    # Renew: the proposal is three years for a token; the old expiry stays in history.
    proposal = chat.t("btn-keys-expiry_ok", date="05.03.2029")
    assert await chat.press("btn-keys-renew") == chat.t("keys-renew-ask", label="Налоги",
                                                                 date="05.03.2029")
    await chat.press(proposal)
    [fresh] = await keys_of(pool, cipher, OWNER)
    assert fresh.expires_on == date(2029, 3, 5)
    assert fresh.issued_on == date(2026, 3, 5)  # a renewal is a re-issue dated today
    assert [(old, new) for old, new, _ in fresh.renewals] == [(date(2026, 4, 1),
                                                                date(2029, 3, 5))]
    assert chat.t("keys-field-renewals", count=1) in chat.last_text()
    # Reminders were re-planned for the new date, at once.
    assert await pending(pool, cipher, key)


async def test_renew_by_typed_date_and_stop_reminders(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    chat = chat_for("kk")
    await chat.consent()
    key = await add_key(pool, cipher, OWNER, clock.now, "Жұмыс", date(2026, 3, 20))
    await chat.press_data(KeyCb(action="renew", key_id=key.id).pack())
    assert await chat.send("01.03.2026") == chat.t("keys-date-before-issue")
    await chat.send("20.03.2027")
    assert chat.last_text().startswith(chat.t("keys-renewed", date="20.03.2027"))
    await chat.press("btn-keys-stop")
    [fresh] = await keys_of(pool, cipher, OWNER)
    assert fresh.reminders_stopped and await pending(pool, cipher, key) == []
    await chat.press("btn-keys-resume")
    assert await pending(pool, cipher, key)


async def test_delete_needs_confirmation_and_cancels_reminders(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    chat = chat_for("ru")
    await chat.consent()
    key = await add_key(pool, cipher, OWNER, clock.now, "Старый", date(2026, 5, 1))
    await chat.press_data(KeyCb(action="used", key_id=key.id).pack())  # plans reminders
    assert await pending(pool, cipher, key)
    assert await chat.press("btn-keys-delete") == chat.t("keys-delete-confirm", label="Старый")
    assert await chat.press("btn-keys-delete-yes") == chat.t("keys-deleted", label="Старый")
    assert await keys_of(pool, cipher, OWNER) == []
    assert await pending(pool, cipher, key) == []
    # The old card's buttons now say what happened to the key.
    await chat.press_data(KeyCb(action="view", key_id=key.id).pack())
    assert chat.alerts()[-1] == chat.t("keys-gone")


FORGED = [KeyCb(action=a, key_id=0).pack() for a in (
    "view", "used", "where", "stop", "resume", "del", "delok", "edit", "renew", "renewok")]


@pytest.mark.parametrize("action", range(len(FORGED) + 3))
async def test_forged_callbacks_cannot_touch_another_users_key(
    chat_for: ChatFor, action: int, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    owner, other = chat_for("ru", OWNER), chat_for("kk", OTHER)
    await owner.consent()
    await other.consent()
    key = await add_key(pool, cipher, OWNER, clock.now, "Секрет-лейбл", date(2026, 9, 1),
                        note="тайник")
    forged = [d.replace(":0", f":{key.id}", 1) for d in FORGED] + [
        EditCb(key_id=key.id, field="label").pack(),
        EditCb(key_id=key.id, field="kind", value="cloud").pack(),
        EditCb(key_id=key.id, field="cancel").pack()]
    other.session.clear()
    await other.press_data(forged[action])
    assert other.alerts() == [other.t("keys-stale")]
    assert all("Секрет" not in t and "тайник" not in t for t in other.session.texts())
    await other.send("Взломанный")  # in case a text step had been opened
    [fresh] = await keys_of(pool, cipher, OWNER)
    assert fresh == key


async def test_calendar_export(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    chat = chat_for("kk")
    await chat.consent()
    key = await add_key(pool, cipher, OWNER, clock.now, "Салық", date(2026, 9, 1),
                        note="сейфте")
    await chat.send("/mykeys")
    await chat.press("btn-keys-ics")
    [doc] = chat.session.sent(SendDocument)
    assert doc.caption == chat.t("keys-ics-caption")
    body = doc.document.data.decode()
    assert event_uid(key.id) in body and "20260901" in body and "Салық" in body
    assert "сейфте" not in body  # storage notes never leave for third-party calendars
    user = await user_of(pool, cipher, OWNER)
    assert user.language == "kk"


async def test_list_buttons_add_and_empty(chat_for: ChatFor) -> None:
    chat = chat_for("ru")
    await chat.consent()
    assert await chat.send("/mykeys") == chat.t("keys-list-empty")
    await chat.press_data(ListCb(action="add").pack())
    assert chat.session.last_text() == chat.t("keys-ask-kind")


async def test_edit_holder_company_and_bin(
    chat_for: ChatFor, pool: SessionPool, cipher: FieldCipher, clock: FakeClock
) -> None:
    from tests.keys.certgen import TEST_BIN

    chat = chat_for("kk")
    await chat.consent()
    key = await add_key(pool, cipher, OWNER, clock.now, "Компания", date(2026, 9, 1))
    await chat.press_data(EditCb(key_id=key.id, field="holder").pack())
    assert await chat.press("btn-keys-holder-legal") == chat.t("keys-edit-ask-company")
    await chat.send("Альфа ЖШС")
    await chat.press_data(EditCb(key_id=key.id, field="bin").pack())
    assert await chat.send("123") == chat.t("keys-error-bin")
    await chat.send(TEST_BIN)
    [fresh] = await keys_of(pool, cipher, OWNER)
    assert (fresh.holder, fresh.company, fresh.cert_info) == ("legal", "Альфа ЖШС",
                                                              {"bin": TEST_BIN})
    await chat.press_data(EditCb(key_id=key.id, field="holder", value="individual").pack())
    [fresh] = await keys_of(pool, cipher, OWNER)
    assert (fresh.holder, fresh.company, fresh.cert_info) == ("individual", None, None)
