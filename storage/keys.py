"""Key metadata. Labels, storage notes, company and certificate details are encrypted."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import clean_text
from storage.database import all_rows, first_row
from storage.dto import KeyDraft, KeyDTO
from storage.encryption import FieldCipher
from storage.models import KeyRenewal, Reminder, SigningKey

EDITABLE = {"kind", "holder", "purpose", "issued_on", "expires_on", "label", "storage_note",
            "company", "reminders_stopped", "password_changed", "cert_info"}
FLAGS = {"reminders_stopped", "password_changed"}
ENCRYPTED = {"label": "label_enc", "storage_note": "storage_enc", "company": "company_enc"}

# Built once, run as Core on the session's connection (storage/database.first_row): the key
# count and the list are read on many updates (/addkey, /mykeys, the menu).
_KEYS = cast(Table, SigningKey.__table__)
_COUNT = select(func.count()).select_from(_KEYS).where(_KEYS.c.user_id == bindparam("user_id"))
_LIST = (
    select(_KEYS)
    .where(_KEYS.c.user_id == bindparam("user_id"))
    .order_by(_KEYS.c.expires_on, _KEYS.c.id)
)


def _clean(text: str | None) -> str | None:
    return None if text is None else clean_text(text)


class KeyRepo:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    def _dto(self, row: SigningKey | Row[Any], renewals: list[KeyRenewal] | None = None) -> KeyDTO:
        c = self.cipher
        return KeyDTO(
            id=row.id,
            user_id=row.user_id,
            kind=row.kind,
            holder=row.holder,
            purpose=row.purpose,
            issued_on=row.issued_on,
            expires_on=row.expires_on,
            # Cleaned on the way in too; here for rows stored before that (they are shown).
            label=clean_text(c.decrypt(row.label_enc, "keys.label")),
            storage_note=_clean(c.decrypt_opt(row.storage_enc, "keys.storage_note")),
            company=_clean(c.decrypt_opt(row.company_enc, "keys.company")),
            cert_info=None if row.cert_enc is None else c.decrypt_json(row.cert_enc, "keys.cert"),
            created_at=row.created_at,
            updated_at=row.updated_at,
            last_activity_at=row.last_activity_at,
            reminders_stopped=row.reminders_stopped,
            password_changed=row.password_changed,
            last_used_at=row.last_used_at,
            renewals=[(r.old_expires_on, r.new_expires_on, r.renewed_at) for r in renewals or []],
        )

    async def add(self, user_id: int, draft: KeyDraft, now: datetime) -> KeyDTO:
        c = self.cipher
        row = SigningKey(
            user_id=user_id,
            kind=draft.kind,
            holder=draft.holder,
            purpose=draft.purpose,
            issued_on=draft.issued_on,
            expires_on=draft.expires_on,
            label_enc=c.encrypt(draft.label, "keys.label"),
            storage_enc=c.encrypt_opt(draft.storage_note, "keys.storage_note"),
            company_enc=c.encrypt_opt(draft.company, "keys.company"),
            cert_enc=(
                None if draft.cert_info is None else c.encrypt_json(draft.cert_info, "keys.cert")
            ),
            created_at=now,
            updated_at=now,
            last_activity_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return self._dto(row)

    async def get_owned(self, user_id: int, key_id: int) -> KeyDTO | None:
        """The key if it exists and belongs to `user_id`; None otherwise (no IDOR)."""
        row = await self.session.scalar(
            select(SigningKey).where(SigningKey.id == key_id, SigningKey.user_id == user_id)
        )
        if row is None:
            return None
        renewals = (
            await self.session.scalars(
                select(KeyRenewal).where(KeyRenewal.key_id == key_id).order_by(KeyRenewal.id)
            )
        ).all()
        return self._dto(row, list(renewals))

    async def get_many_owned(self, owned: dict[int, int]) -> dict[int, KeyDTO]:
        """Keys by id whose owner is the one given ({key id: user id}), in two queries (the
        reminder scan loads a batch of users' keys at once); keys gone or not theirs are absent."""
        if not owned:
            return {}
        rows = (await self.session.scalars(
            select(SigningKey).where(SigningKey.id.in_(list(owned)))
        )).all()
        renewals: dict[int, list[KeyRenewal]] = {}
        for r in await self.session.scalars(
            select(KeyRenewal).where(KeyRenewal.key_id.in_(list(owned))).order_by(KeyRenewal.id)
        ):
            renewals.setdefault(r.key_id, []).append(r)
        return {row.id: self._dto(row, renewals.get(row.id, [])) for row in rows
                if owned[row.id] == row.user_id}

    async def list_for_user(self, user_id: int) -> list[KeyDTO]:
        rows = await all_rows(self.session, _LIST, {"user_id": user_id})
        return [self._dto(r) for r in rows]

    async def count_for_user(self, user_id: int) -> int:
        row = await first_row(self.session, _COUNT, {"user_id": user_id})
        return int(row[0]) if row is not None else 0

    async def update(self, user_id: int, key_id: int, now: datetime, **fields: object) -> bool:
        """Change fields of an owned key; returns False if the key is not the user's."""
        unknown = set(fields) - EDITABLE
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        values: dict[str, object] = {"updated_at": now}
        for name, value in fields.items():
            if name == "cert_info":  # certificate details and a BIN, as encrypted JSON
                values["cert_enc"] = (
                    None if value is None else self.cipher.encrypt_json(value, "keys.cert")
                )
            elif name in ENCRYPTED:
                column = ENCRYPTED[name]
                values[column] = self.cipher.encrypt_opt(
                    None if value is None else str(value), f"keys.{name}"
                )
            else:
                values[name] = value
        result = await self.session.execute(
            update(SigningKey)
            .where(SigningKey.id == key_id, SigningKey.user_id == user_id)
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def renew(
        self, user_id: int, key_id: int, new_expiry: date, now: datetime,
        issued_on: date | None = None,
    ) -> bool:
        """Set a new expiry date (and the re-issue date) and keep the old one in the history."""
        key = await self.get_owned(user_id, key_id)
        if key is None:
            return False
        self.session.add(
            KeyRenewal(
                key_id=key_id,
                old_expires_on=key.expires_on,
                new_expires_on=new_expiry,
                renewed_at=now,
            )
        )
        if issued_on is None:
            return await self.update(user_id, key_id, now, expires_on=new_expiry)
        return await self.update(user_id, key_id, now, expires_on=new_expiry, issued_on=issued_on)

    async def mark_used(
        self, user_id: int, key_id: int, now: datetime, since: datetime | None = None
    ) -> bool:
        """Record "used today". With `since`, only if not already recorded at or after it
        (the start of the user's day): the row count then tells a repeat from the first."""
        conditions = [SigningKey.id == key_id, SigningKey.user_id == user_id]
        if since is not None:
            conditions.append(
                or_(SigningKey.last_used_at.is_(None), SigningKey.last_used_at < since)
            )
        result = await self.session.execute(
            update(SigningKey).where(*conditions).values(last_used_at=now, last_activity_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def touch(self, user_id: int, key_id: int, now: datetime) -> bool:
        """A sign of life that is not a use ("the key is still where it was")."""
        result = await self.session.execute(
            update(SigningKey)
            .where(SigningKey.id == key_id, SigningKey.user_id == user_id)
            .values(last_activity_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_flag(
        self, user_id: int, key_id: int, now: datetime, name: str, value: bool
    ) -> bool:
        """Set a boolean field only if it differs: False means it already had that value
        (or the key is not the user's), so a repeated press changes nothing."""
        if name not in FLAGS:
            raise ValueError(f"not a flag: {name}")
        column = getattr(SigningKey, name)
        result = await self.session.execute(
            update(SigningKey)
            .where(SigningKey.id == key_id, SigningKey.user_id == user_id, column != value)
            .values({name: value, "updated_at": now})
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete(self, user_id: int, key_id: int) -> bool:
        owned = select(SigningKey.id).where(
            SigningKey.id == key_id, SigningKey.user_id == user_id
        )
        await self.session.execute(delete(KeyRenewal).where(KeyRenewal.key_id.in_(owned)))
        await self.session.execute(delete(Reminder).where(Reminder.key_id.in_(owned)))
        result = await self.session.execute(
            delete(SigningKey).where(SigningKey.id == key_id, SigningKey.user_id == user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def history(self, user_id: int) -> dict[int, list[tuple[date, date, datetime]]]:
        rows = await self.session.execute(
            select(KeyRenewal)
            .join(SigningKey, SigningKey.id == KeyRenewal.key_id)
            .where(SigningKey.user_id == user_id)
            .order_by(KeyRenewal.id)
        )
        out: dict[int, list[tuple[date, date, datetime]]] = {}
        for (r,) in rows:
            out.setdefault(r.key_id, []).append((r.old_expires_on, r.new_expires_on, r.renewed_at))
        return out
