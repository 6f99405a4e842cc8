"""Repositories on SQLite and PostgreSQL: encryption, ownership, deletion, rotation."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from storage.database import SessionPool
from storage.dto import KeyDraft
from storage.encryption import DecryptionError, FieldCipher
from storage.models import Base, Broadcast
from storage.repositories import Repos
from storage.rotation import rotate_session

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
SECRET_LABEL = "Мой ЭЦП для налогов ТОО Алма"
SECRET_NOTE = "в сейфе у бухгалтера, синяя флешка"


def draft(**kw: object) -> KeyDraft:
    values: dict[str, object] = dict(
        kind="file",
        purpose="both",
        expires_on=date(2027, 3, 1),
        label=SECRET_LABEL,
        issued_on=date(2026, 3, 1),
        storage_note=SECRET_NOTE,
        company="ТОО Алма",
    )
    values.update(kw)
    return KeyDraft(**values)  # type: ignore[arg-type]


async def test_user_lookup_by_blind_index(backend_pool: SessionPool, cipher: FieldCipher) -> None:
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        created = await repos.users.create(123456789, "kk", "Asia/Almaty", NOW, True)
        await s.commit()
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        found = await repos.users.get_by_tg(123456789)
        assert found is not None and found.id == created.id and found.tg_id == 123456789
        assert found.consent_at == NOW and found.language == "kk"
        assert await repos.users.get_by_tg(987) is None


def test_kept_blind_indexes_equal_fresh_ones_and_stay_bounded() -> None:
    """Kept indexes are the HMACs themselves (a fresh cipher with the same key agrees), an
    int and its digits are one lookup value, another key gives other indexes, and the cache
    never grows past its bound."""
    from storage.encryption import BLIND_INDEXES_KEPT

    key = os.urandom(32)
    cipher, fresh = FieldCipher(key), FieldCipher(key)
    first = [cipher.blind_index(v) for v in (42, "42", "k1", 42)]
    assert first[0] == first[1] == first[3] == fresh.blind_index(42)
    assert first[2] == fresh.blind_index("k1") != first[0]
    assert FieldCipher(os.urandom(32)).blind_index(42) != first[0]
    for n in range(BLIND_INDEXES_KEPT + 10):
        cipher.blind_index(n)
    assert len(cipher._indexes) <= BLIND_INDEXES_KEPT
    assert cipher.blind_index(5) == fresh.blind_index(5) and cipher.blind_index(42) == first[0]


async def test_a_user_found_by_telegram_id_is_not_decrypted_again(
    backend_pool: SessionPool, cipher: FieldCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blind index already proves whose row it is: every update's lookup skips the AES
    decryption of the id it searched by; a lookup by row id still decrypts it."""
    async with backend_pool() as s:
        created = await Repos.build(s, cipher).users.create(5151, "kk", "Asia/Almaty", NOW, True)
        await s.commit()
    decrypted: list[str] = []
    decrypt = cipher.decrypt

    def counted(blob: bytes, context: str) -> str:
        decrypted.append(context)
        return decrypt(blob, context)

    monkeypatch.setattr(cipher, "decrypt", counted)
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        found = await repos.users.get_by_tg(5151)
        assert found is not None and found.tg_id == 5151 and decrypted == []
        with_state = await repos.user_and_state(5151, "no-such-dialog")
        assert with_state == found and decrypted == []
        assert await repos.users.get(created.id) == found and decrypted == ["users.tg_id"]


async def test_user_reads_agree_and_give_aware_datetimes(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    """The Core reads still apply the column types: UTC-aware datetimes on both backends."""
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        created = await repos.users.create(4242, "ru", "Asia/Almaty", NOW, False)
        await repos.users.update_settings(created.id, last_checkup_at=NOW + timedelta(hours=5))
        await s.commit()
    async with backend_pool() as s:
        users = Repos.build(s, cipher).users
        found = await users.get_by_tg(4242)
        assert found is not None and found.consent_at is None and found.blocked_at is None
        assert found.last_seen_at == NOW and found.last_seen_at.tzinfo is not None
        assert found.last_checkup_at == NOW + timedelta(hours=5)
        assert found.last_checkup_at.utcoffset() == timedelta(0)
        assert found == replace(created, last_checkup_at=NOW + timedelta(hours=5))
        assert await users.get(created.id) == found
        assert await users.get_many([created.id, created.id + 1]) == {created.id: found}


async def test_keys_belong_to_their_owner(backend_pool: SessionPool, cipher: FieldCipher) -> None:
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        alice = await repos.users.create(1, "ru", "Asia/Almaty", NOW, True)
        bob = await repos.users.create(2, "ru", "Asia/Almaty", NOW, True)
        key = await repos.keys.add(alice.id, draft(), NOW)
        await s.commit()
        assert key.label == SECRET_LABEL and key.storage_note == SECRET_NOTE
        # Bob cannot read, change, renew or delete Alice's key.
        assert await repos.keys.get_owned(bob.id, key.id) is None
        assert not await repos.keys.update(bob.id, key.id, NOW, label="x")
        assert not await repos.keys.renew(bob.id, key.id, date(2028, 1, 1), NOW)
        assert not await repos.keys.delete(bob.id, key.id)
        assert not await repos.keys.mark_used(bob.id, key.id, NOW)
        await s.commit()
        mine = await repos.keys.get_owned(alice.id, key.id)
        assert mine is not None and mine.label == SECRET_LABEL


async def test_edit_renew_history_and_delete(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        user = await repos.users.create(1, "ru", "Asia/Almaty", NOW, True)
        key = await repos.keys.add(user.id, draft(), NOW)
        later = NOW + timedelta(days=1)
        assert await repos.keys.update(
            user.id, key.id, later, label="Жұмыс кілті", storage_note=None
        )
        assert await repos.keys.renew(user.id, key.id, date(2028, 3, 1), later)
        await s.commit()
        got = await repos.keys.get_owned(user.id, key.id)
        assert got is not None
        assert got.label == "Жұмыс кілті" and got.storage_note is None
        assert got.expires_on == date(2028, 3, 1)
        assert got.renewals == [(date(2027, 3, 1), date(2028, 3, 1), later)]
        assert [k.id for k in await repos.keys.list_for_user(user.id)] == [key.id]
        assert await repos.keys.delete(user.id, key.id)
        await s.commit()
        assert await repos.keys.list_for_user(user.id) == []


async def count_rows(pool: SessionPool) -> dict[str, int]:
    async with pool() as s:
        out = {}
        for table in Base.metadata.sorted_tables:
            out[table.name] = int(await s.scalar(select(func.count()).select_from(table)) or 0)
        return out


async def test_delete_everything_leaves_no_row(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        user = await repos.users.create(55, "kk", "Asia/Almaty", NOW, True)
        key = await repos.keys.add(user.id, draft(), NOW)
        await repos.keys.renew(user.id, key.id, date(2028, 1, 1), NOW)
        await repos.fsm.save("bot:55:55", 55, NOW, state="AddKey:label", data={"label": "x"})
        other = await repos.users.create(56, "ru", "Asia/Almaty", NOW, True)
        await repos.keys.add(other.id, draft(label="other"), NOW)
        await s.commit()
        await repos.users.delete_everything(user.id, 55)
        await s.commit()
    counts = await count_rows(backend_pool)
    assert counts["users"] == 1 and counts["keys"] == 1
    assert counts["key_renewals"] == 0 and counts["fsm_records"] == 0


async def test_rotation_reencrypts_and_reindexes(backend_pool: SessionPool) -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    old = FieldCipher(old_key)
    async with backend_pool() as s:
        repos = Repos.build(s, old)
        user = await repos.users.create(77, "ru", "Asia/Almaty", NOW, True)
        await repos.keys.add(user.id, draft(), NOW)
        s.add(
            Broadcast(
                admin_index="x",
                text_kk="k",
                text_ru="r",
                audience="{}",
                created_at=NOW,
                progress_chat_enc=old.encrypt("77", "broadcasts.progress_chat"),
            )
        )
        await s.commit()
    with pytest.raises(DecryptionError):
        async with backend_pool() as s:
            await Repos.build(s, FieldCipher(new_key)).keys.list_for_user(user.id)
    rotating = FieldCipher(new_key, [old_key])
    async with backend_pool() as s:
        counts = await rotate_session(s, rotating)
    assert counts["keys.label_enc"] == 1 and counts["users.tg_id_enc"] == 1
    assert counts["broadcasts.progress_chat_enc"] == 1
    fresh = FieldCipher(new_key)  # DATA_KEY_OLD dropped after rotation
    async with backend_pool() as s:
        repos = Repos.build(s, fresh)
        found = await repos.users.get_by_tg(77)
        assert found is not None
        assert (await repos.keys.list_for_user(found.id))[0].label == SECRET_LABEL


async def test_raw_database_holds_no_plaintext(
    backend_url: str, backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    tg_id = 918273645
    async with backend_pool() as s:
        repos = Repos.build(s, cipher)
        user = await repos.users.create(tg_id, "ru", "Asia/Almaty", NOW, True)
        await repos.keys.add(user.id, draft(), NOW)
        await repos.fsm.save(
            f"b:{tg_id}:{tg_id}", tg_id, NOW, state="s", data={"label": SECRET_LABEL}
        )
        await s.commit()
    needles = [SECRET_LABEL, SECRET_NOTE, "ТОО Алма", str(tg_id)]
    if backend_url.startswith("sqlite"):
        path = backend_url.split("///", 1)[1]
        async with backend_pool() as s:  # fold the WAL into the main file first
            await s.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        raw = b"".join(open(p, "rb").read() for p in [path] if os.path.exists(p))
    else:
        async with backend_pool() as s:
            parts = []
            for table in Base.metadata.sorted_tables:
                for row in (await s.execute(select(table))).all():
                    parts.append(repr(tuple(row)).encode())
            raw = b"\n".join(parts)
    for needle in needles:
        assert needle.encode("utf-8") not in raw, needle
        assert needle.encode("utf-16-le") not in raw, needle


def test_rotation_covers_every_encrypted_column() -> None:
    """A new *_enc column must be added to the rotation list (fsm data is reset instead)."""
    from storage.rotation import ENCRYPTED_COLUMNS

    covered = {(model.__tablename__, column) for model, column, _ in ENCRYPTED_COLUMNS}
    found = {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("_enc") and table.name != "fsm_records"
    }
    assert found == covered


async def test_export_and_pending_lists_have_a_defined_order(
    backend_pool: SessionPool, cipher: FieldCipher
) -> None:
    """/mydata lists a user's rows oldest first on both backends. PostgreSQL returns unordered rows
    in heap order, and an UPDATE moves a row to the end of the heap: without ORDER BY the
    reminder, delivery and tip that changed last would be listed last there, first on SQLite."""
    from storage.models import Delivery, Reminder, TipSent
    from storage.reminders import ReminderRepo
    from storage.users import export_rows

    async with backend_pool() as s:
        user = await Repos.build(s, cipher).users.create(4242, "kk", "Asia/Almaty", NOW, True)
        first, second = (
            Broadcast(admin_index="x", text_kk="k", text_ru="r", audience="{}", created_at=NOW)
            for _ in range(2)
        )
        s.add_all([first, second])
        await s.flush()
        s.add_all([
            Reminder(id=11, user_id=user.id, kind="checkup", stage=0, due_at=NOW),
            Reminder(id=12, user_id=user.id, kind="checkup", stage=1, due_at=NOW),  # a tie
            Delivery(broadcast_id=first.id, user_id=user.id, status="pending", attempts=0),
            Delivery(broadcast_id=second.id, user_id=user.id, status="pending", attempts=0),
            TipSent(user_id=user.id, tip_id="tip-a", round=1, sent_at=NOW),
            TipSent(user_id=user.id, tip_id="tip-b", round=1, sent_at=NOW),
        ])
        await s.commit()
    async with backend_pool() as s:  # touch the first of each: PostgreSQL moves it to the end
        await s.execute(Reminder.__table__.update().where(Reminder.id == 11).values(stage=0))
        await s.execute(Delivery.__table__.update().where(Delivery.broadcast_id == first.id)
                        .values(status="sent", sent_at=NOW))
        await s.execute(TipSent.__table__.update().where(TipSent.tip_id == "tip-a")
                        .values(round=1))
        await s.commit()
    async with backend_pool() as s:
        out = await export_rows(s, user.id)
        assert [r["stage"] for r in out["reminders"]] == [0, 1]
        assert [d["broadcast_id"] for d in out["broadcast_deliveries"]] == [first.id, second.id]
        assert [t["tip"] for t in out["tips_received"]] == ["tip-a", "tip-b"]
        pending = await ReminderRepo(s).pending_for_user(user.id)
        assert [stage for _, stage, _, _ in pending] == [0, 1]
