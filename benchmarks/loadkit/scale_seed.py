"""The workload of benchmarks/scale.py: users with one due expiry reminder each and a running
broadcast to all of them, written to a migrated PostgreSQL database.

Users, keys and reminders go in by driver-level executemany (as benchmarks/reminder_scan.py
loads), with tg_id, its blind index and the key label encrypted as the repositories do, so the
bots read them like any other row. The broadcast is created through the repository and started
exactly as BroadcastEngine._begin starts a due one (running, one pending delivery per user).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from storage.broadcasts import Audience
from storage.database import create_engine, create_session_pool, migrate
from storage.encryption import FieldCipher
from storage.repositories import Repos

CHAT_BASE = 700_000_000  # Telegram chat id of user n is CHAT_BASE + n
MARKER = "Kilt scale benchmark broadcast"
ALMATY = ZoneInfo("Asia/Almaty")
STAGE = 7  # the "7 days left" expiry stage
BATCH = 10_000


@dataclass(frozen=True)
class Workload:
    users: int
    reminder_users: int  # users 1..reminder_users have one due reminder each

    @property
    def expected(self) -> int:
        return self.users + self.reminder_users

    def reminder_chats(self) -> range:
        return range(CHAT_BASE + 1, CHAT_BASE + self.reminder_users + 1)

    def broadcast_chats(self) -> range:
        return range(CHAT_BASE + 1, CHAT_BASE + self.users + 1)


def _sql(head: str, width: int) -> str:
    return f"{head} VALUES ({', '.join(f'${n}' for n in range(1, width + 1))})"


USERS = _sql(
    "INSERT INTO users (id, tg_index, tg_id_enc, language, timezone, created_at, last_seen_at, "
    "consent_at, expiry_offsets, activity_mode, window_start, window_end, weekly_tips, "
    "broadcasts_opt_in)", 14)
KEYS = _sql(
    "INSERT INTO keys (id, user_id, kind, holder, purpose, expires_on, label_enc, created_at, "
    "updated_at, last_activity_at, reminders_stopped, password_changed)", 12)
REMINDERS = _sql(
    "INSERT INTO reminders (user_id, key_id, kind, stage, due_at, status)", 6)


async def seed(url: str, data_key: bytes, work: Workload, now: datetime,
               rng: random.Random) -> int:
    """Migrate and fill the database; returns the broadcast's id."""
    await migrate(url)
    cipher = FieldCipher(data_key)
    engine = create_engine(url)
    created = now - timedelta(days=30)
    try:
        async with engine.begin() as conn:
            for start in range(1, work.users + 1, BATCH):
                stop = min(start + BATCH, work.users + 1)
                await conn.exec_driver_sql(USERS, [
                    (u, cipher.blind_index(CHAT_BASE + u),
                     cipher.encrypt(str(CHAT_BASE + u), "users.tg_id"),
                     "kk" if u % 2 else "ru", "Asia/Almaty", created, created, created,
                     "30,14,7,3,1,0,-1", "off", 0, 0, False, True)
                    for u in range(start, stop)])
                owners = range(start, min(stop, work.reminder_users + 1))
                # Due at random moments of the last hour: the scan's (due_at, id) order then
                # meets the chats in another order than the broadcast's user order.
                due = {u: now - timedelta(seconds=rng.uniform(60, 3600)) for u in owners}
                await conn.exec_driver_sql(KEYS, [
                    (u, u, "file", "individual", "both",
                     (due[u] + timedelta(days=STAGE)).astimezone(ALMATY).date(),
                     cipher.encrypt(f"Кілт {u}", "keys.label"), created, created, created,
                     False, True)
                    for u in owners])
                await conn.exec_driver_sql(REMINDERS, [
                    (u, u, "expiry", STAGE, due[u], "pending") for u in owners])
            await conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))")
            await conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('keys', 'id'), (SELECT max(id) FROM keys))")
        async with create_session_pool(engine)() as session:
            repos = Repos.build(session, cipher)
            texts = {lang: f"{MARKER} ({lang}): ЭЦҚ/ЭЦП кілттеріңізді тексеріңіз."
                     for lang in ("kk", "ru")}
            broadcast_id = await repos.broadcasts.create(None, texts, Audience(), now, now)
            recipients = await repos.broadcasts.start(broadcast_id, now, now.date())
            await repos.broadcasts.audit(
                None, "broadcast.start", {"id": broadcast_id, "recipients": recipients}, now)
            await session.commit()
        async with engine.connect() as conn:  # what autovacuum would do after a bulk load
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM ANALYZE")
    finally:
        await engine.dispose()
    return broadcast_id
