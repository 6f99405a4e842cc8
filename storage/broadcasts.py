"""Broadcasts and their deliveries: one row per recipient, claimed before each send.

Delivery status: pending → reserved (taken in a batch by one instance, nothing sent yet) →
claimed (this row's send is about to start) → sent | failed | blocked | missing | unknown (a
network error mid-send) | pending (Telegram does not have it); claimed rows whose sender died
become `unknown` too (never re-sent: see bot/broadcast/engine.py), reserved ones go back to
`pending`, and pending or reserved rows become `cancelled` or `excluded` (the user opted out or
blocked the bot after the audience was fixed).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, case, exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.encryption import FieldCipher
from storage.models import AuditEntry, Broadcast, Delivery, SigningKey, User


class BroadcastStatus(StrEnum):
    """A broadcast: scheduled → running → done, or cancelled."""

    SCHEDULED = "scheduled"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    """One recipient's row; the flow is in this module's docstring."""

    PENDING = "pending"
    RESERVED = "reserved"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    MISSING = "missing"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    EXCLUDED = "excluded"


ACTIVE = (BroadcastStatus.SCHEDULED, BroadcastStatus.RUNNING)
OPEN_DELIVERY = (DeliveryStatus.PENDING, DeliveryStatus.RESERVED, DeliveryStatus.CLAIMED)
DONE_DELIVERY = (
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.BLOCKED,
    DeliveryStatus.MISSING,
    DeliveryStatus.UNKNOWN,
    DeliveryStatus.CANCELLED,
    DeliveryStatus.EXCLUDED,
)


@dataclass(frozen=True, slots=True)
class Audience:
    """Who gets a broadcast: kind is all | lang | expiring | legal | inactive."""

    kind: str = "all"
    lang: str | None = None
    days: int | None = None
    campaign: str | None = None  # set on automatic campaign broadcasts, for idempotency

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Audience:
        return cls(**json.loads(raw))


@dataclass(frozen=True, slots=True)
class BroadcastDTO:
    id: int
    status: str
    text_kk: str
    text_ru: str
    audience: Audience
    scheduled_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    paid: bool
    progress_chat: int | None
    progress_message_id: int | None

    def text(self, lang: str) -> str:
        return self.text_kk if lang == "kk" else self.text_ru


@dataclass(frozen=True, slots=True)
class Recipient:
    delivery_id: int
    user_id: int
    chat_id: int
    lang: str
    eligible: bool  # still consenting, opted in and not blocked


@dataclass(frozen=True, slots=True)
class Counts:
    by_status: dict[str, int]

    def __getitem__(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def remaining(self) -> int:
        return sum(self[status] for status in OPEN_DELIVERY)

    @property
    def failed(self) -> int:
        """Errors; `unknown` (the sender died mid-request) is reported apart."""
        return self[DeliveryStatus.FAILED] + self[DeliveryStatus.MISSING]


def reachable() -> list[ColumnElement[bool]]:
    """Users who may get broadcasts at all: consented, opted in, not blocked."""
    return [
        User.consent_at.is_not(None),
        User.blocked_at.is_(None),
        User.broadcasts_opt_in.is_(True),
    ]


def audience_filter(aud: Audience, now: datetime, today: date) -> list[ColumnElement[bool]]:
    conds = reachable()
    if aud.kind == "lang":
        conds.append(User.language == aud.lang)
    elif aud.kind == "expiring":
        until = today + timedelta(days=aud.days or 0)
        conds.append(
            exists().where(
                SigningKey.user_id == User.id, SigningKey.expires_on.between(today, until)
            )
        )
    elif aud.kind == "legal":
        conds.append(exists().where(SigningKey.user_id == User.id, SigningKey.holder == "legal"))
    elif aud.kind == "inactive":
        conds.append(User.last_seen_at < now - timedelta(days=aud.days or 0))
    elif aud.kind != "all":
        raise ValueError(f"unknown audience kind {aud.kind!r}")
    return conds


class BroadcastRepo:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    def _dto(self, row: Broadcast) -> BroadcastDTO:
        chat = self.cipher.decrypt_opt(row.progress_chat_enc, "broadcasts.progress_chat")
        return BroadcastDTO(
            id=row.id,
            status=row.status,
            text_kk=row.text_kk,
            text_ru=row.text_ru,
            audience=Audience.from_json(row.audience),
            scheduled_at=row.scheduled_at,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            paid=row.paid,
            progress_chat=None if chat is None else int(chat),
            progress_message_id=row.progress_message_id,
        )

    async def create(
        self,
        admin_id: int | None,
        texts: dict[str, str],
        audience: Audience,
        scheduled_at: datetime,
        now: datetime,
        *,
        paid: bool = False,
        progress_chat: int | None = None,
    ) -> int:
        row = Broadcast(
            admin_index="system" if admin_id is None else self.cipher.blind_index(admin_id),
            text_kk=texts["kk"],
            text_ru=texts["ru"],
            audience=audience.to_json(),
            status=BroadcastStatus.SCHEDULED,
            scheduled_at=scheduled_at,
            created_at=now,
            paid=paid,
            progress_chat_enc=self.cipher.encrypt_opt(
                None if progress_chat is None else str(progress_chat), "broadcasts.progress_chat"
            ),
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def get(self, broadcast_id: int) -> BroadcastDTO | None:
        row = await self.session.get(Broadcast, broadcast_id, populate_existing=True)
        return None if row is None else self._dto(row)

    async def count_audience(self, aud: Audience, now: datetime, today: date) -> int:
        query = select(func.count()).select_from(User).where(*audience_filter(aud, now, today))
        return int(await self.session.scalar(query) or 0)

    async def start(self, broadcast_id: int, now: datetime, today: date) -> int | None:
        """scheduled → running and one pending delivery per recipient, in one transaction;
        None when another run already started it (or it was cancelled)."""
        moved = await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.SCHEDULED)
            .values(status=BroadcastStatus.RUNNING, started_at=now)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return None
        raw = await self.session.scalar(
            select(Broadcast.audience).where(Broadcast.id == broadcast_id)
        )
        aud = Audience.from_json(raw or "{}")
        users = (
            select(
                literal(broadcast_id), User.id, literal(DeliveryStatus.PENDING.value), literal(0)
            )
            .where(*audience_filter(aud, now, today))
            .order_by(User.id)
        )
        result = await self.session.execute(
            insert(Delivery).from_select(["broadcast_id", "user_id", "status", "attempts"], users)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def due(self, now: datetime) -> list[int]:
        """Running broadcasts (to resume) and scheduled ones whose time has come."""
        rows = await self.session.scalars(
            select(Broadcast.id)
            .where(
                (Broadcast.status == BroadcastStatus.RUNNING)
                | (
                    (Broadcast.status == BroadcastStatus.SCHEDULED)
                    & (Broadcast.scheduled_at <= now)
                )
            )
            .order_by(Broadcast.id)
        )
        return list(rows)

    async def list_active(self) -> list[BroadcastDTO]:
        rows = await self.session.scalars(
            select(Broadcast).where(Broadcast.status.in_(ACTIVE)).order_by(Broadcast.id)
        )
        return [self._dto(r) for r in rows]

    async def cancel(self, broadcast_id: int, now: datetime) -> bool:
        moved = await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status.in_(ACTIVE))
            .values(status=BroadcastStatus.CANCELLED, finished_at=now)
        )
        await self.session.execute(
            update(Delivery)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.RESERVED)),
            )
            .values(status=DeliveryStatus.CANCELLED)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]

    async def next_recipients(
        self, broadcast_id: int, after_id: int, limit: int
    ) -> list[Recipient]:
        rows = await self.session.execute(
            select(
                Delivery.id,
                User.id,
                User.tg_id_enc,
                User.language,
                User.consent_at.is_not(None) & User.blocked_at.is_(None) & User.broadcasts_opt_in,
            )
            .join(User, User.id == Delivery.user_id)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.id > after_id,
            )
            .order_by(Delivery.id)
            .limit(limit)
        )
        return [
            Recipient(d, u, int(self.cipher.decrypt(enc, "users.tg_id")), lang, bool(ok))
            for d, u, enc, lang, ok in rows.all()
        ]

    async def reserve(self, broadcast_id: int, now: datetime, limit: int) -> list[Recipient]:
        """Take up to `limit` pending rows of a running broadcast for this instance in ONE
        statement (pending → reserved), in id order. On PostgreSQL `FOR UPDATE SKIP LOCKED`
        makes concurrent instances take disjoint rows instead of fighting over the same ones;
        SQLite serialises writers. Nothing is sent for a reserved row before `claim`."""
        running = exists().where(
            Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.RUNNING
        )
        # A CTE, not `id IN (subquery)`: PostgreSQL may run such a subquery more than once
        # and then update more than `limit` rows (measured: all 12 of 12 with limit 5).
        picked = (
            select(Delivery.id)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.status == DeliveryStatus.PENDING,
                running,
            )
            .order_by(Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("picked")
        )
        taken = await self.session.execute(
            update(Delivery)
            .where(Delivery.id == picked.c.id, Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.RESERVED, claimed_at=now)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
        won = sorted(taken.scalars())
        if not won:
            return []
        rows = await self.session.execute(
            select(
                Delivery.id,
                User.id,
                User.tg_id_enc,
                User.language,
                User.consent_at.is_not(None) & User.blocked_at.is_(None) & User.broadcasts_opt_in,
            )
            .join(User, User.id == Delivery.user_id)
            .where(Delivery.id.in_(won))
            .order_by(Delivery.id)
        )
        return [
            Recipient(d, u, int(self.cipher.decrypt(enc, "users.tg_id")), lang, bool(ok))
            for d, u, enc, lang, ok in rows.all()
        ]

    async def claim(self, delivery_id: int, now: datetime) -> bool:
        """pending or reserved → claimed, right before its send; False when it is no longer
        ours to send (cancelled, or handed back after the lease and taken by someone else)."""
        moved = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.RESERVED)),
            )
            .values(status=DeliveryStatus.CLAIMED, claimed_at=now, attempts=Delivery.attempts + 1)
        )
        return moved.rowcount == 1  # type: ignore[attr-defined]

    async def settle(
        self, delivery_id: int, status: str, now: datetime, error: str | None = None
    ) -> None:
        """Record the outcome of a claimed (or, for `excluded`, pending) delivery."""
        await self.settle_many([(delivery_id, status, error)], now)

    async def settle_many(self, outcomes: list[tuple[int, str, str | None]], now: datetime) -> None:
        """Record several outcomes (delivery id, status, error): one UPDATE per (status,
        error), so a batch of sends costs one statement, not one transaction each."""
        groups: dict[tuple[str, str | None], list[int]] = {}
        for delivery_id, status, error in outcomes:
            if status not in (*DONE_DELIVERY, DeliveryStatus.PENDING):
                raise ValueError(f"not a delivery status: {status}")
            groups.setdefault((status, error), []).append(delivery_id)
        for (status, error), ids in groups.items():
            await self.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(
                    status=status,
                    error=error,
                    sent_at=now if status == DeliveryStatus.SENT else None,
                )
                .execution_options(synchronize_session=False)
            )

    async def release(self, delivery_ids: list[int]) -> int:
        """Reserved rows this instance will not send (stopping): back to pending."""
        if not delivery_ids:
            return 0
        moved = await self.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.RESERVED)
            .values(status=DeliveryStatus.PENDING)
            .execution_options(synchronize_session=False)
        )
        return int(moved.rowcount or 0)  # type: ignore[attr-defined]

    async def expire_claims(self, broadcast_id: int, before: datetime) -> int:
        """Claims older than `before` belong to a sender that died: the message may have gone
        out, so they become `unknown` and are never sent again. Reservations that old were
        never sent: back to `pending`, for any instance to take (the lease)."""
        moved = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.status.in_((DeliveryStatus.CLAIMED, DeliveryStatus.RESERVED)),
                Delivery.claimed_at < before,
            )
            .values(
                status=case(
                    (Delivery.status == DeliveryStatus.RESERVED, DeliveryStatus.PENDING.value),
                    else_=DeliveryStatus.UNKNOWN.value,
                ),
                error=case(
                    (Delivery.status == DeliveryStatus.RESERVED, None),
                    else_="sender stopped between claim and confirmation",
                ),
            )
        )
        return int(moved.rowcount or 0)  # type: ignore[attr-defined]

    async def counts(self, broadcast_id: int) -> Counts:
        rows = await self.session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.broadcast_id == broadcast_id)
            .group_by(Delivery.status)
        )
        return Counts({s: int(n) for s, n in rows.all()})

    async def finish(self, broadcast_id: int, now: datetime) -> bool:
        """running → done once nothing is pending or claimed."""
        busy = exists().where(
            Delivery.broadcast_id == broadcast_id, Delivery.status.in_(OPEN_DELIVERY)
        )
        moved = await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.RUNNING, ~busy)
            .values(status=BroadcastStatus.DONE, finished_at=now)
        )
        return moved.rowcount == 1  # type: ignore[attr-defined]

    async def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(progress_message_id=message_id)
        )

    async def campaign_exists(self, campaign: str) -> bool:
        needle = json.dumps({"campaign": campaign})[1:-1]
        found = await self.session.scalar(
            select(Broadcast.id).where(Broadcast.audience.contains(needle)).limit(1)
        )
        return found is not None

    async def audit(
        self, admin_id: int | None, action: str, details: dict[str, object], now: datetime
    ) -> None:
        """Who did what (admin as a blind index, never the raw id) and to how many."""
        index = "system" if admin_id is None else self.cipher.blind_index(admin_id)
        self.session.add(
            AuditEntry(
                at=now,
                admin_index=index,
                action=action,
                details=json.dumps(details, ensure_ascii=False, default=str),
            )
        )
        await self.session.flush()
