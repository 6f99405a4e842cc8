"""Reminder rows: the source of truth for what is due. Pending rows are replaced on change.

Life of a row: pending → sent | skipped | failed. A scanner takes a pending row for sending
by inserting its claim (reminder_claims: id, token, time), atomically; the claim goes away
with the final status, or alone when the send could not be attempted (403, network error,
or a claim older than the recovery timeout after a crash), and the row is pending again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple, TypeVarTuple

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Result,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Reminder, ReminderClaim, TZDateTime, User

PENDING, SENT, SKIPPED, FAILED = "pending", "sent", "skipped", "failed"
CLAIMED = "claimed"  # not a stored status: a pending row with a claim (see statuses())
_Ts = TypeVarTuple("_Ts")
# Ids per statement: a scan page's users (2000 rows) fit in one.
_CHUNK = 2000

# (id, user_id, key_id, kind, stage, due_at)
Row = tuple[int, int, int | None, str, int, datetime]


class Recipient(NamedTuple):
    """What the scan needs to decide whether a user may get a message now (nothing secret).
    A tuple: the scan builds one per due user, and a frozen dataclass costs 3x as much."""

    user_id: int
    language: str
    timezone: str
    window_start: int
    window_end: int
    blocked: bool
    consented: bool


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield list(ids[i : i + _CHUNK])


def _rows_query() -> Select[int, int, int | None, str, int, datetime]:
    r = Reminder
    return select(r.id, r.user_id, r.key_id, r.kind, r.stage, r.due_at)


def _rows(result: Result[int, int, int | None, str, int, datetime]) -> list[Row]:
    return [(a, b, c, d, e, f) for a, b, c, d, e, f in result.all()]


def _after(after: tuple[datetime, int]) -> ColumnElement[bool]:
    at, last_id = after
    # due_at >= at first: a plain range bound both planners turn into an index seek.
    return and_(Reminder.due_at >= at, or_(Reminder.due_at > at, Reminder.id > last_id))


def _pending() -> ColumnElement[bool]:
    # A literal, not a bound parameter, so the partial indexes on pending rows apply.
    return Reminder.status == literal_column(f"'{PENDING}'")


def _claimed(token: str | None = None) -> ColumnElement[bool]:
    claim = exists().where(ReminderClaim.reminder_id == Reminder.id)
    return claim.where(ReminderClaim.token == token) if token is not None else claim


def _open() -> ColumnElement[bool]:
    """Pending and not taken by a scanner."""
    return and_(_pending(), ~_claimed())


class ReminderRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def _one_of(self, column: ColumnElement[int] | InstrumentedAttribute[int], ids: list[int]
                ) -> ColumnElement[bool]:
        """`column IN ids` with ONE bound parameter, an array on PostgreSQL and a JSON list
        on SQLite: the statement's text does not depend on len(ids), so it is compiled and
        prepared once, and the scan's thousands of ids are not rendered one by one."""
        if self.postgres:
            return column == any_(bindparam(None, ids, type_=ARRAY(BigInteger())))
        values = func.json_each(json.dumps(ids)).table_valued("value")
        return column.in_(select(values.c.value))

    async def _read(self, query: Select[*_Ts]) -> Result[*_Ts]:
        """A scan read through the session's connection: Core rows, without the ORM's
        per-row loading layer (these queries select columns, never entities)."""
        return await (await self.session.connection()).execute(query)

    async def replace_pending(
        self,
        user_id: int,
        key_id: int | None,
        kinds: Iterable[str],
        planned: Sequence[tuple[str, int, datetime]],
    ) -> None:
        """Drop pending rows of `kinds` for this key (or user-level if key_id is None) and
        insert the new plan. Sent rows stay: they are the history that prevents repeats."""
        kinds = list(kinds)
        key_filter = Reminder.key_id.is_(None) if key_id is None else Reminder.key_id == key_id
        await self.session.execute(
            delete(Reminder).where(
                Reminder.user_id == user_id,
                key_filter,
                Reminder.kind.in_(kinds),
                _open(),  # a claimed row is being sent: it stays, and blocks its slot below
            )
        )
        done = await self._existing(user_id, key_id, kinds)
        for kind, stage, due_at in planned:
            if (kind, stage, due_at) in done:
                continue  # this exact reminder was already sent, skipped or is being sent
            self.session.add(
                Reminder(
                    user_id=user_id, key_id=key_id, kind=kind, stage=stage, due_at=due_at,
                    status=PENDING,
                )
            )
        await self.session.flush()

    async def _existing(
        self, user_id: int, key_id: int | None, kinds: list[str]
    ) -> set[tuple[str, int, datetime]]:
        key_filter = Reminder.key_id.is_(None) if key_id is None else Reminder.key_id == key_id
        rows = await self.session.execute(
            select(Reminder.kind, Reminder.stage, Reminder.due_at).where(
                Reminder.user_id == user_id, key_filter, Reminder.kind.in_(kinds)
            )
        )
        return {(k, s, d) for k, s, d in rows.all()}

    async def cancel_for_key(self, key_id: int) -> None:
        await self.session.execute(
            delete(Reminder).where(Reminder.key_id == key_id, _open())
        )

    async def pending_for_user(self, user_id: int) -> list[tuple[str, int, int | None, datetime]]:
        rows = await self.session.execute(
            select(Reminder.kind, Reminder.stage, Reminder.key_id, Reminder.due_at)
            .where(Reminder.user_id == user_id, _open())
            .order_by(Reminder.due_at, Reminder.id)
        )
        return [(k, s, key, d) for k, s, key, d in rows.all()]

    # --- the scan ---------------------------------------------------------------------------

    async def due_page(
        self, now: datetime, after: tuple[datetime, int] | None, limit: int
    ) -> list[Row]:
        """Unclaimed pending rows due by `now`, in (due_at, id) order after `after`: a range
        of the covering ix_reminders_due, so a scan reads neither the table nor rows that are
        not due."""
        query = _rows_query().where(_open(), Reminder.due_at <= now)
        if after is not None:
            query = query.where(_after(after))
        return _rows(await self._read(query.order_by(Reminder.due_at, Reminder.id).limit(limit)))

    async def due_for_users(
        self, user_ids: Sequence[int], now: datetime, after: tuple[datetime, int] | None = None
    ) -> list[Row]:
        """Unclaimed pending rows due by `now` of these users (only those past `after` in
        (due_at, id) order if given), so each user gets one bundled message."""
        out: list[Row] = []
        for chunk in _chunks(user_ids):
            # `+ 0` keeps both planners off the user_id indexes: the rest of the due range in
            # the covering ix_reminders_due is short, while every user has a long history.
            query = _rows_query().where(
                self._one_of(Reminder.user_id + 0, chunk), _open(), Reminder.due_at <= now
            )
            if after is not None:
                query = query.where(_after(after))
            out.extend(_rows(await self._read(query)))
        return out

    async def recipients(self, user_ids: Sequence[int]) -> dict[int, Recipient]:
        out: dict[int, Recipient] = {}
        u = User
        for chunk in _chunks(user_ids):
            rows = await self._read(
                select(u.id, u.language, u.timezone, u.window_start, u.window_end,
                       u.blocked_at.is_not(None), u.consent_at.is_not(None))
                .where(self._one_of(u.id, chunk))
            )
            for uid, lang, tz, ws, we, blocked, consented in rows.all():
                out[uid] = Recipient(uid, lang, tz, ws, we, bool(blocked), bool(consented))
        return out

    async def claim(self, ids: Sequence[int], token: str, now: datetime) -> list[int]:
        """Atomically take pending rows for sending; returns the ids this token won.

        INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING (SQLite >= 3.35, PostgreSQL):
        a row another scanner claimed first conflicts on the claim's key and is not
        returned; a row that is no longer pending is not selected."""
        insert = postgresql.insert if self.postgres else sqlite.insert
        won: list[int] = []
        for chunk in _chunks(ids):
            rows = select(
                Reminder.id, literal(token, String()), literal(now, TZDateTime())
            ).where(self._one_of(Reminder.id, chunk), _pending())
            # PostgreSQL: lock the rows and re-check `pending` against the newest committed
            # version; without it a scanner whose snapshot predates another's "sent" commit
            # (which also drops that claim) could claim a row that was just sent. Rows another
            # scanner is working on are skipped. SQLite serialises writers and ignores this.
            rows = rows.with_for_update(of=Reminder, skip_locked=True)
            result = await self.session.execute(
                insert(ReminderClaim)
                .from_select(["reminder_id", "token", "claimed_at"], rows)
                .on_conflict_do_nothing(index_elements=["reminder_id"])
                .returning(ReminderClaim.reminder_id)
            )
            won.extend(result.scalars())
        return won

    async def _set(self, ids: Sequence[int], where: ColumnElement[bool], **values: object) -> int:
        count = 0
        for chunk in _chunks(ids):
            result = await self.session.execute(
                update(Reminder)
                .where(self._one_of(Reminder.id, chunk), where)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            count += int(result.rowcount)  # type: ignore[attr-defined]
        return count

    async def _unclaim(self, ids: Sequence[int], token: str) -> int:
        count = 0
        for chunk in _chunks(ids):
            result = await self.session.execute(
                delete(ReminderClaim)
                .where(self._one_of(ReminderClaim.reminder_id, chunk),
                       ReminderClaim.token == token)
                .execution_options(synchronize_session=False)
            )
            count += int(result.rowcount)  # type: ignore[attr-defined]
        return count

    async def skip(self, ids: Sequence[int]) -> int:
        """Superseded or too-late pending rows: never sent, kept as history."""
        return await self._set(ids, _open(), status=SKIPPED)

    async def mark_sent(self, ids: Sequence[int], token: str, now: datetime) -> int:
        count = await self._set(ids, and_(_pending(), _claimed(token)), status=SENT, sent_at=now)
        await self._unclaim(ids, token)
        return count

    async def finish_claimed(self, ids: Sequence[int], token: str, status: str) -> int:
        """Close claimed rows that will not be sent (skipped after all, or failed)."""
        count = await self._set(ids, and_(_pending(), _claimed(token)), status=status)
        await self._unclaim(ids, token)
        return count

    async def release(self, ids: Sequence[int], token: str) -> int:
        """Hand claimed rows back to the queue; nothing was sent for them."""
        return await self._unclaim(ids, token)

    async def release_stale(self, claimed_before: datetime) -> int:
        """Claims left by a crashed scanner go back to pending (see bot/reminders/engine.py)."""
        result = await self.session.execute(
            delete(ReminderClaim)
            .where(ReminderClaim.claimed_at < claimed_before)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # --- single rows ------------------------------------------------------------------------

    async def add(
        self, user_id: int, key_id: int | None, kind: str, stage: int, due_at: datetime
    ) -> None:
        """One extra row (a snooze), unless the very same slot already exists."""
        if (kind, stage, due_at) in await self._existing(user_id, key_id, [kind]):
            return
        self.session.add(Reminder(user_id=user_id, key_id=key_id, kind=kind, stage=stage,
                                  due_at=due_at, status=PENDING))
        await self.session.flush()

    async def mark_covered(
        self, user_id: int, key_id: int | None, slots: Sequence[tuple[str, int, datetime]],
        now: datetime,
    ) -> None:
        """Record slots as sent at `now` without sending them: another message (the confirmation
        of a newly saved key) already said the same. A later re-plan never plans them again."""
        done = await self._existing(user_id, key_id, [kind for kind, _, _ in slots])
        for kind, stage, due_at in slots:
            if (kind, stage, due_at) not in done:
                self.session.add(Reminder(user_id=user_id, key_id=key_id, kind=kind, stage=stage,
                                          due_at=due_at, status=SENT, sent_at=now))
        await self.session.flush()

    async def users_without(self, kind: str, limit: int) -> list[int]:
        """Consenting, reachable users with periodic reminders on and no open `kind` row."""
        open_row = exists().where(
            Reminder.user_id == User.id,
            Reminder.kind == kind,
            _pending(),  # claimed rows included: they are pending until sent
        )
        rows = await self.session.scalars(
            select(User.id)
            .where(User.consent_at.is_not(None), User.blocked_at.is_(None),
                   User.activity_mode != "off", ~open_row)
            .order_by(User.id)
            .limit(limit)
        )
        return list(rows)

    async def statuses(self, user_id: int) -> list[tuple[str, int, int | None, str, datetime]]:
        """(kind, stage, key_id, status, due_at) of every row of a user, for tests and /mydata."""
        rows = await self.session.execute(
            select(Reminder.kind, Reminder.stage, Reminder.key_id,
                   case((and_(_pending(), _claimed()), CLAIMED), else_=Reminder.status),
                   Reminder.due_at)
            .where(Reminder.user_id == user_id)
            .order_by(Reminder.due_at, Reminder.id)
        )
        return [(k, s, key, st, d) for k, s, key, st, d in rows.all()]
