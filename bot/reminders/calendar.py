"""iCalendar (.ics) export of key expiry dates, so users get reminders in their own calendar.

The caller localises all text (titles, descriptions, calendar name) before calling; this
module only shapes the file. Output is deterministic for a given input and ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

__all__ = ["DEFAULT_ALARM_DAYS", "PRODID", "CalendarKey", "build_ics", "event_uid"]

PRODID = "-//Kilt//EDS keys//"
DEFAULT_ALARM_DAYS: tuple[int, ...] = (30, 7, 1)
# Alarms further out than this are almost certainly a bug in the caller.
_MAX_ALARM_DAYS = 366


@dataclass(frozen=True)
class CalendarKey:
    """One key to export; ``title`` and ``description`` are already in the user's language."""

    key_id: int
    title: str
    expires_on: date
    description: str = ""


def event_uid(key_id: int) -> str:
    # Stable per key, so re-importing an updated export replaces events instead of duplicating.
    return f"key-{key_id}@kilt-bot"


def build_ics(
    keys: Sequence[CalendarKey],
    *,
    lang: Literal["kk", "ru"],
    now: datetime,
    alarm_days: Sequence[int] = DEFAULT_ALARM_DAYS,
    calendar_name: str | None = None,
) -> bytes:
    """Return an .ics file with one all-day event per key on its expiry date.

    Each event gets a DISPLAY alarm ``n`` days before the event start for every ``n`` in
    ``alarm_days`` (0 = at the start of the expiry day). ``now`` becomes DTSTAMP.
    """
    # Imported on the first export, not at start-up: icalendar costs about 3 MB of memory that
    # a bot whose users never export a calendar need not hold.
    from icalendar import Alarm, Calendar, Event

    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a tz-aware datetime")
    days = sorted(set(alarm_days), reverse=True)
    for n in days:
        if not 0 <= n <= _MAX_ALARM_DAYS:
            raise ValueError(f"alarm day {n} outside 0..{_MAX_ALARM_DAYS}")
    ids = [k.key_id for k in keys]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate key_id: event UIDs would collide")

    stamp = now.astimezone(UTC)
    text_params: dict[str, str] = {"LANGUAGE": lang}

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if calendar_name:
        cal.add("x-wr-calname", calendar_name, parameters=text_params)

    for key in sorted(keys, key=lambda k: (k.expires_on, k.key_id)):
        event = Event()
        event.add("uid", event_uid(key.key_id))
        event.add("dtstamp", stamp)
        event.add("dtstart", key.expires_on)  # a date -> VALUE=DATE, an all-day event
        event.add("dtend", key.expires_on + timedelta(days=1))
        event.add("summary", key.title, parameters=text_params)
        if key.description:
            event.add("description", key.description, parameters=text_params)
        # A reminder date should not show the user as busy.
        event.add("transp", "TRANSPARENT")
        for n in days:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", timedelta(days=-n))
            # RFC 5545 requires DESCRIPTION on DISPLAY alarms; reuse the localised title.
            alarm.add("description", key.title, parameters=text_params)
            event.add_component(alarm)
        cal.add_component(event)

    return cal.to_ical()
