"""Pure planning logic for reminders: when each reminder is due and which due ones to send.

Nothing here reads the clock, the database or Telegram. Every function that needs the current
time takes it as ``now`` (a tz-aware datetime), so the scheduler and the tests control the clock.

Conventions:
- All returned moments are tz-aware UTC datetimes; user-facing days are computed in the user's
  IANA time zone (default Asia/Almaty, fixed UTC+5 since 1 March 2024; tzdata knows this).
- ``expires_on`` is the last calendar day on which the key is valid (the date of "Not After").
- ``stage`` of an expiry reminder is its offset in days before expiry (0 = expiry day,
  -1 = the day after). Other kinds use stage 0.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.constants import DEFAULT_TIMEZONE

__all__ = [
    "ACTIVITY_MODES",
    "ACTIVITY_MODE_DAYS",
    "DEFAULT_ACTIVITY_MODE",
    "DEFAULT_OFFSETS",
    "DEFAULT_TZ",
    "DEFAULT_WINDOW",
    "EXPIRING_WITHIN_DAYS",
    "EXPIRY_GRACE_AFTER_EXPIRY",
    "KIND_PRIORITY",
    "ReminderKind",
    "MAX_OFFSET",
    "MIN_OFFSET",
    "NUDGE_DELAYS_DAYS",
    "STALE_AFTER",
    "WHEREABOUTS_AFTER_DAYS",
    "DueReminder",
    "KeyStatus",
    "PlannedReminder",
    "SettingsParseError",
    "Window",
    "bundle_by_user",
    "days_left",
    "format_offsets",
    "format_window",
    "key_status",
    "local_moment",
    "next_delivery_moment",
    "parse_offsets",
    "parse_tz",
    "parse_window",
    "plan_checkup",
    "plan_expiry",
    "plan_nudges",
    "plan_whereabouts",
    "select_deliverable",
]

# --- reminder kinds -------------------------------------------------------------------------

class ReminderKind(StrEnum):
    """What a reminder row is about; stored as its value."""

    EXPIRY = "expiry"
    CHECKUP = "checkup"
    WHEREABOUTS = "whereabouts"
    NUDGE_PASSWORD = "nudge_password"
    NUDGE_SMS = "nudge_sms"
    NUDGE_REVOKE = "nudge_revoke"
    SNOOZE = "snooze"

# Order inside one bundled message: the most urgent things first. A snooze is usually a
# postponed expiry warning, so it follows expiry; the periodic check-up is the least urgent.
KIND_PRIORITY: Mapping[str, int] = {
    ReminderKind.EXPIRY: 0,
    ReminderKind.SNOOZE: 1,
    ReminderKind.WHEREABOUTS: 2,
    ReminderKind.NUDGE_REVOKE: 3,
    ReminderKind.NUDGE_PASSWORD: 4,
    ReminderKind.NUDGE_SMS: 5,
    ReminderKind.CHECKUP: 6,
}

# --- defaults -------------------------------------------------------------------------------

# Days before expiry; 0 = on the expiry day, -1 = the day after (the key no longer works).
DEFAULT_OFFSETS: tuple[int, ...] = (30, 14, 7, 3, 1, 0, -1)
MIN_OFFSET = -1
MAX_OFFSET = 90

DEFAULT_WINDOW: tuple[time, time] = (time(10), time(20))
DEFAULT_TZ = DEFAULT_TIMEZONE

ACTIVITY_MODES: tuple[str, ...] = ("off", "monthly", "quarterly")
ACTIVITY_MODE_DAYS: Mapping[str, int | None] = {"off": None, "monthly": 30, "quarterly": 90}
# Default is ON but quarterly: a monthly security check-up on top of expiry reminders felt
# naggy for a key most people touch a few times a year; users can switch to monthly or off.
DEFAULT_ACTIVITY_MODE = "quarterly"

WHEREABOUTS_AFTER_DAYS = 90

# One-off nudges after a key is added, in days after the day it was added:
# - next day: change the default password (PSC staff used to set one shared password);
# - after 3 days: link the phone number (БМГ) so NUC expiry/usage SMS arrive;
# - after 7 days: revoke keys you no longer use (new keys do not cancel old ones).
# Spread out so a new user gets one small task at a time instead of a wall of advice.
NUDGE_DELAYS_DAYS: Mapping[ReminderKind, int] = {
    ReminderKind.NUDGE_PASSWORD: 1,
    ReminderKind.NUDGE_SMS: 3,
    ReminderKind.NUDGE_REVOKE: 7,
}

# Nudges and snoozes older than this are no longer timely after downtime; skip them.
STALE_AFTER = timedelta(days=14)
# Expiry reminders are dropped once the key has been expired for longer than this; by then
# the user needs a new key, not a late countdown.
EXPIRY_GRACE_AFTER_EXPIRY = timedelta(days=2)
# key_status() reports "expiring" at or below this many days left.
EXPIRING_WITHIN_DAYS = 30


class KeyStatus(StrEnum):
    """Where a key stands today, in its owner's calendar (the strings callers compare with)."""

    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"


# Kinds that are sent however late they are (one per user/key), since the question they ask
# ("do you still know where your key is?") stays valid until answered.
_NEVER_STALE_KINDS = frozenset({ReminderKind.CHECKUP, ReminderKind.WHEREABOUTS})


class SettingsParseError(ValueError):
    """Invalid user input for a reminder setting; ``code`` lets handlers localise the reply.

    Codes: ``empty``, ``not_a_number``, ``out_of_range``, ``duplicate``, ``format``,
    ``empty_window``, ``unknown_tz``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedReminder:
    kind: ReminderKind
    stage: int
    due_at: datetime  # UTC


@dataclass(frozen=True)
class DueReminder:
    id: int
    user_id: int
    key_id: int | None
    kind: str  # a ReminderKind value, or an unknown one from a newer version's rows
    stage: int
    due_at: datetime  # tz-aware


@dataclass(frozen=True)
class Window:
    """Daily delivery window in local wall-clock time, ``start`` inclusive, ``end`` exclusive.

    ``start > end`` crosses midnight (e.g. 22:00-02:00); ``start == end`` means "any time".
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are local wall-clock times and must be naive")

    @classmethod
    def default(cls) -> Window:
        return cls(*DEFAULT_WINDOW)

    @classmethod
    def from_minutes(cls, start: int, end: int) -> Window:
        """Build from minutes after midnight, the form the storage layer keeps (0..1440)."""
        return cls(_time_from_minutes(start), _time_from_minutes(end))

    def to_minutes(self) -> tuple[int, int]:
        return self.start.hour * 60 + self.start.minute, self.end.hour * 60 + self.end.minute

    @property
    def always_open(self) -> bool:
        return self.start == self.end

    def contains(self, local_time: time) -> bool:
        # Drop tzinfo so callers may pass datetime.timetz() as well as time().
        t = local_time.replace(tzinfo=None)
        if self.always_open:
            return True
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


def _time_from_minutes(minutes: int) -> time:
    if not 0 <= minutes <= 24 * 60:
        raise ValueError(f"minutes after midnight out of range: {minutes}")
    minutes %= 24 * 60  # 1440 ("24:00") is the same wall-clock point as 00:00
    return time(minutes // 60, minutes % 60)


def _as_window(window: Window | tuple[time, time]) -> Window:
    return window if isinstance(window, Window) else Window(*window)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a tz-aware datetime")


# --- parsing and formatting of user settings ---------------------------------------------


_OFFSET_SPLIT = re.compile(r"[\s,;]+")


def parse_offsets(text: str) -> tuple[int, ...]:
    """Parse "30,14,7,1" (commas, semicolons or spaces) into unique offsets sorted descending."""
    parts = [p for p in _OFFSET_SPLIT.split(text.strip()) if p]
    if not parts:
        raise SettingsParseError("empty", "no offsets given")
    values: list[int] = []
    for part in parts:
        # Accept the Unicode minus/dashes phones insert for "-1".
        normalized = part.replace("\u2212", "-").replace("\u2013", "-").replace("\u2014", "-")
        if not re.fullmatch(r"[+-]?\d{1,3}", normalized):
            raise SettingsParseError("not_a_number", f"not a whole number: {part!r}")
        value = int(normalized)
        if not MIN_OFFSET <= value <= MAX_OFFSET:
            raise SettingsParseError(
                "out_of_range", f"offset {value} outside {MIN_OFFSET}..{MAX_OFFSET}"
            )
        if value in values:
            raise SettingsParseError("duplicate", f"offset {value} given twice")
        values.append(value)
    return tuple(sorted(values, reverse=True))


def format_offsets(offsets: Iterable[int]) -> str:
    """Inverse of parse_offsets: "30, 14, 7, 1"."""
    return ", ".join(str(o) for o in sorted(set(offsets), reverse=True))


_WINDOW_RE = re.compile(
    r"^\s*(?P<sh>\d{1,2})(?:[:.](?P<sm>\d{2}))?\s*[-\u2013\u2014]\s*"
    r"(?P<eh>\d{1,2})(?:[:.](?P<em>\d{2}))?\s*$"
)


def parse_window(text: str) -> Window:
    """Parse "10-20", "10:00-20:00", "9.30–18" or "22-2" (crosses midnight); "0-24" = any time."""
    match = _WINDOW_RE.match(text)
    if match is None:
        raise SettingsParseError("format", f"expected HH[:MM]-HH[:MM], got {text!r}")
    start_h, start_m = int(match["sh"]), int(match["sm"] or 0)
    end_h, end_m = int(match["eh"]), int(match["em"] or 0)
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        raise SettingsParseError("out_of_range", f"not a valid time of day in {text!r}")
    start = time(start_h, start_m)
    end = time(0) if end_h == 24 else time(end_h, end_m)
    # "10-10" is almost certainly a typo; whole-day delivery must be asked for as "0-24".
    if start == end and not (end_h == 24 and start == time(0)):
        raise SettingsParseError("empty_window", f"window {text!r} has no length")
    return Window(start, end)


def format_window(window: Window) -> str:
    """Inverse of parse_window: "10:00-20:00"; the any-time window is "00:00-24:00"."""
    if window.always_open:
        return "00:00-24:00"
    return f"{window.start:%H:%M}-{window.end:%H:%M}"


def parse_tz(text: str) -> str:
    """Validate an IANA time zone name such as "Asia/Almaty"; return it stripped."""
    name = text.strip()
    if not name:
        raise SettingsParseError("unknown_tz", "empty time zone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsParseError("unknown_tz", f"unknown time zone {name!r}") from exc
    return name


# --- time helpers ---------------------------------------------------------------------------


def local_moment(day: date, tz: str, at: time) -> datetime:
    """The UTC instant when it is ``at`` o'clock on ``day`` in zone ``tz``.

    A wall time skipped by a DST jump resolves to the later side (fold=0 uses the pre-jump
    offset), so the reminder goes out shortly after the intended time, never before it.
    A repeated wall time (DST fall-back) resolves to its first occurrence.
    """
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _local_date(moment: datetime, tz: str) -> date:
    _require_aware(moment, "moment")
    return moment.astimezone(ZoneInfo(tz)).date()


def days_left(expires_on: date, now: datetime, tz: str) -> int:
    """Whole days until ``expires_on`` counted in the user's calendar (0 on the day, <0 after)."""
    return (expires_on - _local_date(now, tz)).days


def key_status(expires_on: date, now: datetime, tz: str) -> KeyStatus:
    left = days_left(expires_on, now, tz)
    if left < 0:
        return KeyStatus.EXPIRED
    if left <= EXPIRING_WITHIN_DAYS:
        return KeyStatus.EXPIRING
    return KeyStatus.VALID


def next_delivery_moment(
    now: datetime, tz: str, window: Window | tuple[time, time] = DEFAULT_WINDOW
) -> datetime:
    """``now`` (in UTC) if the user's local time is inside the window, else the next start."""
    _require_aware(now, "now")
    win = _as_window(window)
    local = now.astimezone(ZoneInfo(tz))
    if win.contains(local.time()):
        return now.astimezone(UTC)
    today = local.date()
    # Outside a normal window we are either before today's start or after today's end;
    # outside a midnight-crossing window we are always before today's start.
    day = today if local.time() < win.start else today + timedelta(days=1)
    return local_moment(day, tz, win.start)


# --- planning -------------------------------------------------------------------------------


def plan_expiry(
    expires_on: date,
    offsets: Iterable[int] = DEFAULT_OFFSETS,
    tz: str = DEFAULT_TZ,
    window: Window | tuple[time, time] = DEFAULT_WINDOW,
) -> list[PlannedReminder]:
    """One expiry reminder per offset, due at the window start on ``expires_on - offset``.

    All stages are returned, including ones already in the past; when a key is added late
    the caller may drop stages with ``due_at <= now`` or let select_deliverable() pick the
    newest one.
    """
    start = _as_window(window).start
    return sorted(
        (
            PlannedReminder(
                ReminderKind.EXPIRY,
                offset,
                local_moment(expires_on - timedelta(days=offset), tz, start),
            )
            for offset in set(offsets)
        ),
        key=lambda p: p.due_at,
    )


def plan_checkup(
    last_checkup_at: datetime | None,
    created_at: datetime,
    mode: str = DEFAULT_ACTIVITY_MODE,
    tz: str = DEFAULT_TZ,
    window: Window | tuple[time, time] = DEFAULT_WINDOW,
) -> datetime | None:
    """Next periodic security check-up, counted from the last one (or from sign-up).

    Returns None when the mode is "off".
    """
    if mode not in ACTIVITY_MODE_DAYS:
        raise ValueError(f"unknown activity mode {mode!r}; expected one of {ACTIVITY_MODES}")
    period = ACTIVITY_MODE_DAYS[mode]
    if period is None:
        return None
    base = last_checkup_at if last_checkup_at is not None else created_at
    day = _local_date(base, tz) + timedelta(days=period)
    return local_moment(day, tz, _as_window(window).start)


def plan_whereabouts(
    last_activity_at: datetime,
    tz: str = DEFAULT_TZ,
    window: Window | tuple[time, time] = DEFAULT_WINDOW,
    after_days: int = WHEREABOUTS_AFTER_DAYS,
) -> datetime:
    """When to ask "do you still know where this key is?" after it was last used or checked."""
    if after_days < 1:
        raise ValueError("after_days must be positive")
    day = _local_date(last_activity_at, tz) + timedelta(days=after_days)
    return local_moment(day, tz, _as_window(window).start)


def plan_nudges(
    key_added_at: datetime,
    tz: str = DEFAULT_TZ,
    window: Window | tuple[time, time] = DEFAULT_WINDOW,
) -> list[PlannedReminder]:
    """One-off safety nudges after a key is added (see NUDGE_DELAYS_DAYS), sorted by due time."""
    added_day = _local_date(key_added_at, tz)
    start = _as_window(window).start
    return sorted(
        (
            PlannedReminder(kind, 0, local_moment(added_day + timedelta(days=delay), tz, start))
            for kind, delay in NUDGE_DELAYS_DAYS.items()
        ),
        key=lambda p: p.due_at,
    )


# --- selection and bundling -----------------------------------------------------------------


def _expiry_anchor(reminder: DueReminder) -> datetime:
    # Window start on the expiry day: stage N was planned N days before it.
    return reminder.due_at + timedelta(days=reminder.stage)


def _too_late(reminder: DueReminder, now: datetime) -> bool:
    if reminder.kind == ReminderKind.EXPIRY:
        # The key stops working at the end of expires_on, i.e. at anchor + 1 day.
        expired_at = _expiry_anchor(reminder) + timedelta(days=1)
        return now - expired_at > EXPIRY_GRACE_AFTER_EXPIRY
    if reminder.kind in _NEVER_STALE_KINDS:
        return False
    return now - reminder.due_at > STALE_AFTER


def select_deliverable(
    due: Sequence[DueReminder], now: datetime
) -> tuple[list[DueReminder], list[DueReminder]]:
    """Split pending reminders into (to_send, to_skip) for one scan at ``now``.

    Per (user, key, kind) only the reminder with the latest ``due_at <= now`` survives; older
    ones are superseded and skipped. For expiry this means that after downtime the "30 days"
    stage is skipped once the "3 days" stage is due. The survivor is itself skipped when too
    late: expiry reminders more than EXPIRY_GRACE_AFTER_EXPIRY after the key expired,
    nudges/snoozes older than STALE_AFTER. Check-ups and whereabouts are never too late.

    Whereabouts are kept per key (each asks about a specific key); check-ups have no key, so
    they collapse to one per user. Reminders with ``due_at > now`` are in neither list: they
    stay pending for a later scan.
    """
    _require_aware(now, "now")
    groups: dict[tuple[int, int | None, str], list[DueReminder]] = defaultdict(list)
    for reminder in due:
        if reminder.due_at.tzinfo is None:  # the full check only when it may fail: hot loop
            _require_aware(reminder.due_at, f"due_at of reminder {reminder.id}")
        if reminder.due_at <= now:
            groups[(reminder.user_id, reminder.key_id, reminder.kind)].append(reminder)

    to_send: list[DueReminder] = []
    to_skip: list[DueReminder] = []
    for items in groups.values():
        if len(items) > 1:
            items.sort(key=lambda r: (r.due_at, r.id))
            to_skip.extend(items[:-1])
        newest = items[-1]
        (to_skip if _too_late(newest, now) else to_send).append(newest)

    def order(r: DueReminder) -> tuple[int, datetime, int]:
        return r.user_id, r.due_at, r.id

    return sorted(to_send, key=order), sorted(to_skip, key=order)


def _bundle_order(reminder: DueReminder) -> tuple[int, datetime, int, int]:
    priority = KIND_PRIORITY.get(reminder.kind, len(KIND_PRIORITY))
    # Expiry: fewest days left first, i.e. the earliest expiry date (not the planned stage,
    # which can be out of date after downtime).
    moment = _expiry_anchor(reminder) if reminder.kind == ReminderKind.EXPIRY else reminder.due_at
    return priority, moment, reminder.key_id if reminder.key_id is not None else -1, reminder.id


def bundle_by_user(to_send: Iterable[DueReminder]) -> dict[int, list[DueReminder]]:
    """Group reminders into one message per user, most urgent first (see KIND_PRIORITY)."""
    bundles: dict[int, list[DueReminder]] = defaultdict(list)
    for reminder in to_send:
        bundles[reminder.user_id].append(reminder)
    return {user: sorted(bundle, key=_bundle_order) if len(bundle) > 1 else bundle
            for user, bundle in sorted(bundles.items())}
