from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Component

from bot.reminders.calendar import PRODID, CalendarKey, build_ics, event_uid

NOW = datetime(2025, 6, 1, 15, 30, tzinfo=ZoneInfo("Asia/Almaty"))

KEYS = [
    CalendarKey(
        key_id=7,
        title="ЭЦҚ кілтінің мерзімі бітеді: AUTH, «ТОО Альфа»; жаңартыңыз",
        expires_on=date(2025, 9, 1),
        description="pki.gov.kz жеке кабинетінде қайта шығарыңыз.",
    ),
    CalendarKey(key_id=3, title="Срок ЭЦП истекает: ID-карта", expires_on=date(2028, 2, 29)),
]


def parse(data: bytes) -> Calendar:
    assert isinstance(data, bytes)
    return Calendar.from_ical(data)


def prop(component: Component, name: str) -> Any:
    # icalendar's stubs type properties as a broad union; tests only need duck typing.
    return component[name]


def events_by_uid(cal: Calendar) -> dict[str, Component]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_calendar_header() -> None:
    cal = parse(build_ics(KEYS, lang="kk", now=NOW, calendar_name="Kilt: ЭЦҚ"))
    assert str(cal["PRODID"]) == PRODID == "-//Kilt//EDS keys//"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "Kilt: ЭЦҚ"


def test_one_all_day_event_per_key_with_stable_uid() -> None:
    data = build_ics(KEYS, lang="kk", now=NOW)
    events = events_by_uid(parse(data))
    assert set(events) == {"key-7@kilt-bot", "key-3@kilt-bot"} == {event_uid(7), event_uid(3)}

    first = events["key-7@kilt-bot"]
    start = prop(first, "DTSTART").dt
    assert type(start) is date and start == date(2025, 9, 1)  # a date, not a datetime
    assert prop(first, "DTEND").dt == date(2025, 9, 2)
    assert b"DTSTART;VALUE=DATE:20250901" in data
    # Commas, semicolons and Cyrillic survive escaping and line folding.
    assert str(first["SUMMARY"]) == KEYS[0].title
    assert prop(first, "SUMMARY").params["LANGUAGE"] == "kk"
    assert str(first["DESCRIPTION"]) == KEYS[0].description
    assert str(first["TRANSP"]) == "TRANSPARENT"
    # DTSTAMP is the injected clock, in UTC.
    assert prop(first, "DTSTAMP").dt == datetime(2025, 6, 1, 10, 30, tzinfo=UTC)

    leap = events["key-3@kilt-bot"]
    assert prop(leap, "DTSTART").dt == date(2028, 2, 29)
    assert prop(leap, "DTEND").dt == date(2028, 3, 1)
    assert "DESCRIPTION" not in leap  # empty description is omitted


def test_events_sorted_by_expiry_and_output_is_deterministic() -> None:
    data = build_ics(KEYS, lang="ru", now=NOW)
    assert [str(e["UID"]) for e in parse(data).walk("VEVENT")] == [event_uid(7), event_uid(3)]
    assert build_ics(list(reversed(KEYS)), lang="ru", now=NOW) == data


def test_default_alarms() -> None:
    for event in parse(build_ics(KEYS, lang="ru", now=NOW)).walk("VEVENT"):
        alarms = event.walk("VALARM")
        assert [prop(a, "TRIGGER").dt for a in alarms] == [
            timedelta(days=-30),
            timedelta(days=-7),
            timedelta(days=-1),
        ]
        for alarm in alarms:
            assert str(alarm["ACTION"]) == "DISPLAY"
            assert str(alarm["DESCRIPTION"]) == str(event["SUMMARY"])
            assert prop(alarm, "DESCRIPTION").params["LANGUAGE"] == "ru"
    data = build_ics(KEYS, lang="ru", now=NOW)
    assert b"TRIGGER:-P30D" in data and b"TRIGGER:-P7D" in data and b"TRIGGER:-P1D" in data


def test_custom_alarms_deduplicated_and_none() -> None:
    cal = parse(build_ics(KEYS[:1], lang="kk", now=NOW, alarm_days=(1, 14, 0, 14)))
    (event,) = cal.walk("VEVENT")
    assert [prop(a, "TRIGGER").dt for a in event.walk("VALARM")] == [
        timedelta(days=-14),
        timedelta(days=-1),
        timedelta(0),
    ]
    (bare,) = parse(build_ics(KEYS[:1], lang="kk", now=NOW, alarm_days=())).walk("VEVENT")
    assert bare.walk("VALARM") == []


def test_empty_export_is_a_valid_calendar() -> None:
    cal = parse(build_ics([], lang="kk", now=NOW))
    assert cal.walk("VEVENT") == []
    assert str(cal["PRODID"]) == PRODID


def test_invalid_input() -> None:
    with pytest.raises(ValueError):
        build_ics(KEYS, lang="kk", now=datetime(2025, 6, 1, 12))
    with pytest.raises(ValueError):
        build_ics(KEYS, lang="kk", now=NOW, alarm_days=(-1,))
    with pytest.raises(ValueError):
        build_ics(KEYS, lang="kk", now=NOW, alarm_days=(400,))
    duplicate = [KEYS[0], CalendarKey(7, "x", date(2026, 1, 1))]
    with pytest.raises(ValueError):
        build_ics(duplicate, lang="kk", now=NOW)
