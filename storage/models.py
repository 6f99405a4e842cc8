"""Database schema. Personal fields are `*_enc` (AES-GCM bytes); lookups use blind indexes.

Dates that drive scans (expiry, due moments) stay in clear so indexes can serve them; alone
they identify nobody.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger autoincrement on SQLite needs INTEGER to alias the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class TZDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        # SQLite compares the stored text, so every value is naive UTC there.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tg_index: Mapped[str] = mapped_column(String(64), unique=True)
    tg_id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    language: Mapped[str] = mapped_column(String(2), default="ru")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Almaty")
    consent_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(TZDateTime)
    blocked_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    expiry_offsets: Mapped[str] = mapped_column(String(64), default="30,14,7,3,1,0,-1")
    activity_mode: Mapped[str] = mapped_column(String(16), default="quarterly")
    window_start: Mapped[int] = mapped_column(Integer, default=10 * 60)  # minutes after midnight
    window_end: Mapped[int] = mapped_column(Integer, default=20 * 60)
    weekly_tips: Mapped[bool] = mapped_column(Boolean, default=True)
    broadcasts_opt_in: Mapped[bool] = mapped_column(Boolean, default=True)
    last_checkup_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class SigningKey(Base):
    __tablename__ = "keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    holder: Mapped[str] = mapped_column(String(16), default="individual")
    purpose: Mapped[str] = mapped_column(String(16))
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date, index=True)
    label_enc: Mapped[bytes] = mapped_column(LargeBinary)
    storage_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    company_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    cert_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # JSON: CN, masked IIN, serial
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)
    # Any sign of the key (added, used, "still here"): drives the whereabouts reminder.
    last_activity_at: Mapped[datetime] = mapped_column(TZDateTime)
    # Only when the user said "used today"; None until then.
    last_used_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    reminders_stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed: Mapped[bool] = mapped_column(Boolean, default=False)


class ActionClaim(Base):
    """A button press that already had its effect: an idempotency key, so a double tap acts
    once. The key is an HMAC (blind index) of chat, message and action, never a raw id."""

    __tablename__ = "action_claims"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, index=True)


class KeyRenewal(Base):
    __tablename__ = "key_renewals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("keys.id", ondelete="CASCADE"), index=True)
    old_expires_on: Mapped[date] = mapped_column(Date)
    new_expires_on: Mapped[date] = mapped_column(Date)
    renewed_at: Mapped[datetime] = mapped_column(TZDateTime)


# Partial indexes hold pending rows only: the scan's ranges never walk the sent history. The
# predicate is a literal, as a bound parameter would keep both planners off a partial index.
PENDING_ONLY = text("status = 'pending'")


class Reminder(Base):
    """One planned message. Status: pending → sent | skipped | failed; a pending row that a
    scanner took for sending has a ReminderClaim."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("user_id", "key_id", "kind", "stage", "due_at", name="uq_reminders_slot"),
        # The scan reads due rows from this index alone: every column it selects is in it
        # (SQLite wants `status` too, though constant here).
        Index("ix_reminders_due", "due_at", "id", "user_id", "key_id", "kind", "stage",
              "status", sqlite_where=PENDING_ONLY, postgresql_where=PENDING_ONLY),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[int | None] = mapped_column(
        ForeignKey("keys.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    stage: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(TZDateTime)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class ReminderClaim(Base):
    """A pending reminder a scanner has taken for sending. A narrow table of its own: taking
    a claim inserts one small row instead of rewriting the reminder row and moving its
    index entries, which made claiming the scan's largest cost."""

    __tablename__ = "reminder_claims"

    reminder_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reminders.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False,
    )
    token: Mapped[str] = mapped_column(String(36))
    # No index: only messages being sent have a claim, so recovery's scan of it is short.
    claimed_at: Mapped[datetime] = mapped_column(TZDateTime)


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    admin_index: Mapped[str] = mapped_column(String(64))
    text_kk: Mapped[str] = mapped_column(Text)
    text_ru: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(200))  # JSON spec
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    started_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    progress_chat_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)


class Delivery(Base):
    """One recipient of a broadcast. Status: pending → claimed → sent | failed | blocked."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "user_id", name="uq_deliveries_recipient"),
        Index("ix_deliveries_queue", "broadcast_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    error: Mapped[str | None] = mapped_column(String(200))


class TipSent(Base):
    __tablename__ = "tips_sent"
    __table_args__ = (UniqueConstraint("user_id", "tip_id", "round", name="uq_tips_sent_once"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tip_id: Mapped[str] = mapped_column(String(64))
    round: Mapped[int] = mapped_column(Integer, default=1)
    sent_at: Mapped[datetime] = mapped_column(TZDateTime)


class UnansweredQuestion(Base):
    """A question the matcher could not place: redacted, encrypted, no user link, deleted after
    UNANSWERED_RETENTION_DAYS. group_key (a blind index of the normalised text) groups repeats."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    group_key: Mapped[str] = mapped_column(String(64), index=True)
    lang: Mapped[str] = mapped_column(String(2))
    score: Mapped[float] = mapped_column()
    asked_at: Mapped[datetime] = mapped_column(TZDateTime, index=True)


class LearnedPhrasing(Base):
    """A real question an admin attached to a topic (topic None: out of scope); redacted,
    encrypted, no link to who asked it. created_by is the admin's blind index."""

    __tablename__ = "learned_phrasings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    text_index: Mapped[str] = mapped_column(String(64), unique=True)
    topic: Mapped[str | None] = mapped_column(String(40))
    lang: Mapped[str] = mapped_column(String(2))
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class Feedback(Base):
    """👍/👎 per topic; no user link, one vote per answer message via the vote key."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    vote_key: Mapped[str] = mapped_column(String(64), unique=True)
    topic: Mapped[str] = mapped_column(String(40), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    voted_at: Mapped[datetime] = mapped_column(TZDateTime)


class FsmRecord(Base):
    """aiogram FSM state and data, persisted so dialogs survive restarts (data encrypted)."""

    __tablename__ = "fsm_records"

    key_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Blind index of the Telegram user id, so /forget finds every record of a user.
    owner_index: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str | None] = mapped_column(String(128))
    data_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(TZDateTime, index=True)
    admin_index: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text)
