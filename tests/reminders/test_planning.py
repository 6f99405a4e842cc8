from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.reminders.planning import (
    ACTIVITY_MODE_DAYS,
    ACTIVITY_MODES,
    DEFAULT_ACTIVITY_MODE,
    DEFAULT_OFFSETS,
    DEFAULT_TZ,
    DEFAULT_WINDOW,
    WHEREABOUTS_AFTER_DAYS,
    DueReminder,
    ReminderKind,
    SettingsParseError,
    Window,
    bundle_by_user,
    days_left,
    format_offsets,
    format_window,
    key_status,
    local_moment,
    next_delivery_moment,
    parse_offsets,
    parse_tz,
    parse_window,
    plan_checkup,
    plan_expiry,
    plan_nudges,
    plan_whereabouts,
    select_deliverable,
)

ALMATY = "Asia/Almaty"
BERLIN = "Europe/Berlin"
ALMATY_TZ = ZoneInfo(ALMATY)
BERLIN_TZ = ZoneInfo(BERLIN)
WINDOW = Window.default()


def almaty(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=ALMATY_TZ)


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=BERLIN_TZ)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def expiry_rows(
    expires_on: date,
    *,
    user_id: int = 1,
    key_id: int = 1,
    offsets: Iterable[int] = DEFAULT_OFFSETS,
    tz: str = ALMATY,
    first_id: int = 1,
) -> list[DueReminder]:
    """What the storage layer would hold after planning a key's expiry reminders."""
    return [
        DueReminder(first_id + i, user_id, key_id, p.kind, p.stage, p.due_at)
        for i, p in enumerate(plan_expiry(expires_on, offsets, tz, WINDOW))
    ]


def ids(reminders: Iterable[DueReminder]) -> list[int]:
    return [r.id for r in reminders]


def stages(reminders: Iterable[DueReminder]) -> list[int]:
    return [r.stage for r in reminders]


# --- constants ---------------------------------------------------------------------------------


def test_defaults_match_product_issue() -> None:
    assert DEFAULT_OFFSETS == (30, 14, 7, 3, 1, 0, -1)
    assert DEFAULT_WINDOW == (time(10), time(20))
    assert DEFAULT_TZ == "Asia/Almaty"
    assert ACTIVITY_MODES == ("off", "monthly", "quarterly")
    assert set(ACTIVITY_MODE_DAYS) == set(ACTIVITY_MODES)
    assert ACTIVITY_MODE_DAYS["monthly"] == 30 and ACTIVITY_MODE_DAYS["quarterly"] == 90
    assert DEFAULT_ACTIVITY_MODE == "quarterly"
    assert WHEREABOUTS_AFTER_DAYS == 90


# --- parse_offsets / format_offsets ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30,14,7,1", (30, 14, 7, 1)),
        ("1, 30 ;7", (30, 7, 1)),
        ("1 7 30", (30, 7, 1)),
        ("-1,0", (0, -1)),
        ("\u22121, 3", (3, -1)),  # phones type a Unicode minus
        ("90", (90,)),
        ("+5", (5,)),
        (" 30,14,7,3,1,0,-1 ", DEFAULT_OFFSETS),
    ],
)
def test_parse_offsets_valid(text: str, expected: tuple[int, ...]) -> None:
    assert parse_offsets(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        (" , ; ", "empty"),
        ("abc", "not_a_number"),
        ("7,1.5", "not_a_number"),
        ("7,1a", "not_a_number"),
        ("91", "out_of_range"),
        ("-2", "out_of_range"),
        ("7,7", "duplicate"),
        ("07,7", "duplicate"),
    ],
)
def test_parse_offsets_errors(text: str, code: str) -> None:
    with pytest.raises(SettingsParseError) as info:
        parse_offsets(text)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)


def test_format_offsets_round_trips() -> None:
    assert format_offsets(DEFAULT_OFFSETS) == "30, 14, 7, 3, 1, 0, -1"
    assert parse_offsets(format_offsets([1, 30, 7])) == (30, 7, 1)


# --- Window / parse_window ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "inside"),
    [
        (time(9, 59, 59), False),
        (time(10), True),
        (time(15, 30), True),
        (time(19, 59, 59), True),
        (time(20), False),
        (time(0), False),
    ],
)
def test_window_contains_daytime(at: time, inside: bool) -> None:
    assert WINDOW.contains(at) is inside


@pytest.mark.parametrize(
    ("at", "inside"),
    [
        (time(21, 59), False),
        (time(22), True),
        (time(23, 59), True),
        (time(0), True),
        (time(1, 59), True),
        (time(2), False),
        (time(12), False),
    ],
)
def test_window_contains_crossing_midnight(at: time, inside: bool) -> None:
    assert Window(time(22), time(2)).contains(at) is inside


def test_window_contains_ignores_tzinfo_and_always_open() -> None:
    assert WINDOW.contains(time(12, tzinfo=UTC))
    anytime = Window(time(0), time(0))
    assert anytime.always_open
    assert all(anytime.contains(time(h)) for h in range(24))


def test_window_rejects_aware_times() -> None:
    with pytest.raises(ValueError):
        Window(time(10, tzinfo=UTC), time(20))


def test_window_minutes_round_trip() -> None:
    assert Window.from_minutes(600, 1200) == WINDOW
    assert WINDOW.to_minutes() == (600, 1200)
    assert Window.from_minutes(0, 1440).always_open
    with pytest.raises(ValueError):
        Window.from_minutes(-1, 600)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10-20", Window(time(10), time(20))),
        ("10:00-20:00", Window(time(10), time(20))),
        ("9.30\u201318", Window(time(9, 30), time(18))),
        (" 8 - 21:45 ", Window(time(8), time(21, 45))),
        ("22-2", Window(time(22), time(2))),
        ("18-24", Window(time(18), time(0))),
        ("0-24", Window(time(0), time(0))),
    ],
)
def test_parse_window_valid(text: str, expected: Window) -> None:
    assert parse_window(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "format"),
        ("10", "format"),
        ("ten-twenty", "format"),
        ("10:5-20", "format"),
        ("25-3", "out_of_range"),
        ("24-5", "out_of_range"),
        ("10:60-12", "out_of_range"),
        ("10-24:30", "out_of_range"),
        ("10-10", "empty_window"),
        ("10:00-10", "empty_window"),
    ],
)
def test_parse_window_errors(text: str, code: str) -> None:
    with pytest.raises(SettingsParseError) as info:
        parse_window(text)
    assert info.value.code == code


@pytest.mark.parametrize("text", ["10:00-20:00", "09:30-18:00", "22:00-02:00", "00:00-24:00"])
def test_format_window_round_trips(text: str) -> None:
    assert format_window(parse_window(text)) == text


def test_parse_tz() -> None:
    assert parse_tz(" Asia/Almaty ") == ALMATY
    assert parse_tz("Europe/Berlin") == BERLIN
    for bad in ("", "Mars/Olympus", "../etc/passwd"):
        with pytest.raises(SettingsParseError) as info:
            parse_tz(bad)
        assert info.value.code == "unknown_tz"


# --- local_moment ------------------------------------------------------------------------------


def test_local_moment_almaty_is_utc_plus_5_since_march_2024() -> None:
    assert local_moment(date(2025, 6, 1), ALMATY, time(10)) == utc(2025, 6, 1, 5)
    assert local_moment(date(2025, 12, 1), ALMATY, time(10)) == utc(2025, 12, 1, 5)
    # Before 1 March 2024 Almaty was UTC+6; tzdata knows the history.
    assert local_moment(date(2024, 2, 1), ALMATY, time(10)) == utc(2024, 2, 1, 4)
    assert local_moment(date(2025, 6, 1), ALMATY, time(10)).tzinfo is UTC


def test_local_moment_berlin_follows_dst() -> None:
    assert local_moment(date(2025, 1, 15), BERLIN, time(10)) == utc(2025, 1, 15, 9)
    assert local_moment(date(2025, 7, 15), BERLIN, time(10)) == utc(2025, 7, 15, 8)
    # 02:30 does not exist on 30 March 2025: it resolves to 03:30 CEST, not earlier.
    gap = local_moment(date(2025, 3, 30), BERLIN, time(2, 30))
    assert gap == utc(2025, 3, 30, 1, 30)
    assert gap.astimezone(BERLIN_TZ).time() == time(3, 30)
    # 02:30 happens twice on 26 October 2025: the first (CEST) occurrence is used.
    assert local_moment(date(2025, 10, 26), BERLIN, time(2, 30)) == utc(2025, 10, 26, 0, 30)


# --- plan_expiry -------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", DEFAULT_OFFSETS)
def test_plan_expiry_each_default_offset_almaty(offset: int) -> None:
    expires_on = date(2025, 11, 20)
    plan = {p.stage: p for p in plan_expiry(expires_on, DEFAULT_OFFSETS, ALMATY, WINDOW)}
    reminder = plan[offset]
    assert reminder.kind == ReminderKind.EXPIRY
    local_day = expires_on - timedelta(days=offset)
    assert reminder.due_at == almaty(local_day.year, local_day.month, local_day.day, 10)
    assert reminder.due_at.tzinfo is UTC
    assert reminder.due_at.hour == 5  # fixed UTC+5, no DST


def test_plan_expiry_full_schedule_sorted() -> None:
    plan = plan_expiry(date(2025, 11, 20), DEFAULT_OFFSETS, ALMATY, WINDOW)
    assert [p.stage for p in plan] == [30, 14, 7, 3, 1, 0, -1]
    assert [p.due_at for p in plan] == [
        utc(2025, 10, 21, 5),
        utc(2025, 11, 6, 5),
        utc(2025, 11, 13, 5),
        utc(2025, 11, 17, 5),
        utc(2025, 11, 19, 5),
        utc(2025, 11, 20, 5),
        utc(2025, 11, 21, 5),
    ]


@pytest.mark.parametrize("offset", DEFAULT_OFFSETS)
def test_plan_expiry_berlin_always_window_start_local_across_dst(offset: int) -> None:
    # Expiry on 10 April 2025: the 30/14-day stages fall in CET, the rest in CEST.
    plan = {p.stage: p for p in plan_expiry(date(2025, 4, 10), DEFAULT_OFFSETS, BERLIN, WINDOW)}
    local = plan[offset].due_at.astimezone(BERLIN_TZ)
    assert local.time() == time(10)
    assert local.date() == date(2025, 4, 10) - timedelta(days=offset)
    expected_utc_hour = 9 if local.date() < date(2025, 3, 30) else 8
    assert plan[offset].due_at.hour == expected_utc_hour


def test_plan_expiry_leap_day() -> None:
    plan = {p.stage: p.due_at for p in plan_expiry(date(2024, 2, 29), DEFAULT_OFFSETS, ALMATY)}
    assert plan[30] == almaty(2024, 1, 30, 10)
    assert plan[1] == almaty(2024, 2, 28, 10)
    assert plan[0] == almaty(2024, 2, 29, 10)
    assert plan[-1] == almaty(2024, 3, 1, 10)
    # A key expiring on 1 March gets its "1 day before" reminder on the leap day.
    after_leap = {p.stage: p.due_at for p in plan_expiry(date(2024, 3, 1), (1, 7), ALMATY)}
    assert after_leap[1] == almaty(2024, 2, 29, 10)
    assert after_leap[7] == almaty(2024, 2, 23, 10)


def test_plan_expiry_custom_offsets_and_window() -> None:
    plan = plan_expiry(date(2025, 5, 10), (7, 1, 7), ALMATY, Window(time(22), time(2)))
    assert [(p.stage, p.due_at) for p in plan] == [
        (7, almaty(2025, 5, 3, 22)),
        (1, almaty(2025, 5, 9, 22)),
    ]
    assert plan_expiry(date(2025, 5, 10), (), ALMATY) == []


# --- activity planning -------------------------------------------------------------------------


def test_plan_checkup_modes() -> None:
    created = almaty(2025, 1, 10, 15)
    assert plan_checkup(None, created, "off", ALMATY, WINDOW) is None
    assert plan_checkup(None, created, "quarterly", ALMATY, WINDOW) == almaty(2025, 4, 10, 10)
    assert plan_checkup(None, created, "monthly", ALMATY, WINDOW) == almaty(2025, 2, 9, 10)
    # Counted from the last check-up when there was one.
    last = almaty(2025, 3, 1, 18)
    assert plan_checkup(last, created, "monthly", ALMATY, WINDOW) == almaty(2025, 3, 31, 10)
    assert plan_checkup(None, created, tz=ALMATY) == almaty(2025, 4, 10, 10)  # default quarterly
    with pytest.raises(ValueError):
        plan_checkup(None, created, "weekly", ALMATY, WINDOW)


def test_plan_checkup_uses_local_date_of_last_checkup() -> None:
    # 20:30 UTC on 31 Jan is already 1 Feb in Almaty.
    last = utc(2025, 1, 31, 20, 30)
    due = plan_checkup(last, last, "monthly", ALMATY, WINDOW)
    assert due == almaty(2025, 3, 3, 10)  # 1 Feb + 30 days
    assert plan_checkup(last, last, "monthly", BERLIN, WINDOW) == berlin(2025, 3, 2, 10)


def test_plan_whereabouts() -> None:
    last = almaty(2025, 1, 1, 12)
    assert plan_whereabouts(last, ALMATY, WINDOW) == almaty(2025, 4, 1, 10)
    assert plan_whereabouts(last, ALMATY, WINDOW, after_days=30) == almaty(2025, 1, 31, 10)
    with pytest.raises(ValueError):
        plan_whereabouts(last, ALMATY, WINDOW, after_days=0)
    with pytest.raises(ValueError):
        plan_whereabouts(datetime(2025, 1, 1), ALMATY, WINDOW)


def test_plan_nudges() -> None:
    # Added late at night local time: day counting starts from the local date.
    added = utc(2025, 6, 1, 20)  # 2 June 01:00 in Almaty
    plan = plan_nudges(added, ALMATY, WINDOW)
    assert [(p.kind, p.stage, p.due_at) for p in plan] == [
        (ReminderKind.NUDGE_PASSWORD, 0, almaty(2025, 6, 3, 10)),
        (ReminderKind.NUDGE_SMS, 0, almaty(2025, 6, 5, 10)),
        (ReminderKind.NUDGE_REVOKE, 0, almaty(2025, 6, 9, 10)),
    ]


# --- next_delivery_moment ----------------------------------------------------------------------


def test_next_delivery_moment_inside_window_is_now() -> None:
    now = almaty(2025, 6, 1, 12, 34, 56)
    result = next_delivery_moment(now, ALMATY, WINDOW)
    assert result == now and result.tzinfo is UTC


def test_next_delivery_moment_before_window_is_today_start() -> None:
    assert next_delivery_moment(almaty(2025, 6, 1, 7), ALMATY, WINDOW) == almaty(2025, 6, 1, 10)


def test_next_delivery_moment_after_window_is_tomorrow_start() -> None:
    assert next_delivery_moment(almaty(2025, 6, 1, 20), ALMATY, WINDOW) == almaty(2025, 6, 2, 10)
    # 23:30 UTC is already 04:30 next day in Almaty: start is that same local day.
    assert next_delivery_moment(utc(2025, 6, 1, 23, 30), ALMATY, WINDOW) == almaty(2025, 6, 2, 10)


def test_next_delivery_moment_crossing_midnight() -> None:
    night = Window(time(22), time(2))
    inside = almaty(2025, 6, 2, 1)
    assert next_delivery_moment(inside, ALMATY, night) == inside
    assert next_delivery_moment(almaty(2025, 6, 2, 3), ALMATY, night) == almaty(2025, 6, 2, 22)
    assert next_delivery_moment(almaty(2025, 6, 2, 21), ALMATY, night) == almaty(2025, 6, 2, 22)


def test_next_delivery_moment_berlin_over_dst_change() -> None:
    # Saturday evening CET -> Sunday 10:00 CEST, which is 08:00 UTC.
    result = next_delivery_moment(berlin(2025, 3, 29, 21), BERLIN, WINDOW)
    assert result == utc(2025, 3, 30, 8)


def test_next_delivery_moment_always_open_and_naive() -> None:
    now = utc(2025, 6, 1, 22)
    assert next_delivery_moment(now, ALMATY, Window(time(0), time(0))) == now
    with pytest.raises(ValueError):
        next_delivery_moment(datetime(2025, 6, 1, 12), ALMATY, WINDOW)


# --- days_left / key_status --------------------------------------------------------------------


def test_days_left_counts_in_user_calendar() -> None:
    expires_on = date(2025, 3, 10)
    now = utc(2025, 3, 9, 19, 30)  # 00:30 on 10 March in Almaty, still 20:30 on 9 March in Berlin
    assert days_left(expires_on, now, ALMATY) == 0
    assert days_left(expires_on, now, BERLIN) == 1
    assert days_left(date(2024, 3, 1), almaty(2024, 2, 28, 12), ALMATY) == 2  # leap year


@pytest.mark.parametrize(
    ("expires_on", "status"),
    [
        (date(2025, 5, 31), "expired"),
        (date(2025, 6, 1), "expiring"),
        (date(2025, 7, 1), "expiring"),  # exactly 30 days left
        (date(2025, 7, 2), "valid"),
    ],
)
def test_key_status(expires_on: date, status: str) -> None:
    assert key_status(expires_on, almaty(2025, 6, 1, 12), ALMATY) == status


# --- select_deliverable ------------------------------------------------------------------------


EXPIRES = date(2025, 11, 20)  # stages due 05:00 UTC on Oct 21, Nov 6, 13, 17, 19, 20, 21


def test_select_on_time_sends_only_the_stage_just_due() -> None:
    rows = expiry_rows(EXPIRES)
    # Earlier stages were sent in past scans and are no longer pending.
    pending = [r for r in rows if r.stage <= 7]
    send, skip = select_deliverable(pending, almaty(2025, 11, 13, 10, 1))
    assert stages(send) == [7] and skip == []


def test_select_skips_stale_stages_after_downtime() -> None:
    rows = expiry_rows(EXPIRES)
    # The bot was down from 20 Oct until 18 Nov noon: 30, 14, 7 and 3 are all overdue.
    send, skip = select_deliverable(rows, almaty(2025, 11, 18, 12))
    assert stages(send) == [3]
    assert stages(skip) == [30, 14, 7]
    # Stages 1, 0, -1 are not due yet and stay pending (in neither list).
    assert len(send) + len(skip) == 4


def test_select_after_one_day_of_downtime_sends_late_stage_once() -> None:
    rows = [r for r in expiry_rows(EXPIRES) if r.stage <= 7]
    # Down for the whole of 13 Nov (stage 7 day); back on 14 Nov: stage 7 is still the newest.
    send, skip = select_deliverable(rows, almaty(2025, 11, 14, 10, 30))
    assert stages(send) == [7] and skip == []
    # Down from 12 Nov until 17 Nov 11:00: stage 3 became due, 7 is stale.
    send, skip = select_deliverable(rows, almaty(2025, 11, 17, 11))
    assert stages(send) == [3] and stages(skip) == [7]


def test_select_expiry_grace_after_expiry() -> None:
    after = [r for r in expiry_rows(EXPIRES) if r.stage == -1]  # due 21 Nov 10:00 local
    send, skip = select_deliverable(after, almaty(2025, 11, 23, 9))
    assert stages(send) == [-1] and skip == []
    send, skip = select_deliverable(after, almaty(2025, 11, 23, 11))
    assert send == [] and stages(skip) == [-1]
    # A user with only the 7-day stage, bot down until long after expiry: skipped, not sent late.
    only_seven = expiry_rows(EXPIRES, offsets=(7,))
    send, skip = select_deliverable(only_seven, almaty(2025, 11, 23, 11))
    assert send == [] and stages(skip) == [7]
    send, _ = select_deliverable(only_seven, almaty(2025, 11, 21, 12))
    assert stages(send) == [7]  # key expired yesterday: still worth telling


def test_select_keys_and_users_are_independent() -> None:
    rows = (
        expiry_rows(EXPIRES, user_id=1, key_id=1, first_id=100)
        + expiry_rows(date(2025, 11, 25), user_id=1, key_id=2, first_id=200)
        + expiry_rows(EXPIRES, user_id=2, key_id=3, first_id=300)
    )
    send, skip = select_deliverable(rows, almaty(2025, 11, 18, 12))
    assert [(r.user_id, r.key_id, r.stage) for r in send] == [(1, 1, 3), (1, 2, 7), (2, 3, 3)]
    assert len(skip) == 3 + 2 + 3


def test_select_non_expiry_staleness() -> None:
    now = almaty(2025, 6, 30, 12)
    rows = [
        DueReminder(1, 1, 10, ReminderKind.NUDGE_PASSWORD, 0, now - timedelta(days=13)),
        DueReminder(2, 1, 10, ReminderKind.NUDGE_SMS, 0, now - timedelta(days=15)),
        DueReminder(3, 1, 10, ReminderKind.SNOOZE, 0, now - timedelta(days=20)),
        DueReminder(4, 1, None, ReminderKind.CHECKUP, 0, now - timedelta(days=200)),
        DueReminder(5, 1, 10, ReminderKind.WHEREABOUTS, 0, now - timedelta(days=100)),
    ]
    send, skip = select_deliverable(rows, now)
    assert ids(send) == [4, 5, 1]  # sorted by due_at
    assert sorted(ids(skip)) == [2, 3]


def test_select_collapses_duplicates_into_newest() -> None:
    now = almaty(2025, 6, 30, 12)
    rows = [
        DueReminder(1, 1, None, ReminderKind.CHECKUP, 0, now - timedelta(days=120)),
        DueReminder(2, 1, None, ReminderKind.CHECKUP, 0, now - timedelta(days=30)),
        DueReminder(3, 1, 10, ReminderKind.WHEREABOUTS, 0, now - timedelta(days=5)),
        DueReminder(4, 1, 11, ReminderKind.WHEREABOUTS, 0, now - timedelta(days=6)),
        DueReminder(5, 1, 10, ReminderKind.WHEREABOUTS, 0, now - timedelta(days=50)),
    ]
    send, skip = select_deliverable(rows, now)
    assert sorted(ids(send)) == [2, 3, 4]  # one check-up; whereabouts kept per key
    assert sorted(ids(skip)) == [1, 5]


def test_select_leaves_future_reminders_pending_and_rejects_naive() -> None:
    now = utc(2025, 6, 1, 12)
    future = DueReminder(1, 1, None, ReminderKind.CHECKUP, 0, now + timedelta(seconds=1))
    exactly_now = DueReminder(2, 1, 5, ReminderKind.NUDGE_SMS, 0, now)
    assert select_deliverable([future, exactly_now], now) == ([exactly_now], [])
    assert select_deliverable([], now) == ([], [])
    with pytest.raises(ValueError):
        select_deliverable([], datetime(2025, 6, 1, 12))
    with pytest.raises(ValueError):
        overdue = DueReminder(3, 1, None, ReminderKind.CHECKUP, 0, datetime(2025, 1, 1))
        select_deliverable([overdue], now)


# --- bundle_by_user ----------------------------------------------------------------------------


def test_bundle_one_message_per_user_after_downtime() -> None:
    now = almaty(2025, 11, 18, 12)
    rows = (
        expiry_rows(EXPIRES, user_id=1, key_id=1, first_id=100)
        + expiry_rows(date(2025, 11, 25), user_id=1, key_id=2, first_id=200)
        + expiry_rows(EXPIRES, user_id=2, key_id=3, first_id=300)
        + [
            DueReminder(1, 1, None, ReminderKind.CHECKUP, 0, now - timedelta(days=3)),
            DueReminder(2, 1, 2, ReminderKind.NUDGE_SMS, 0, now - timedelta(days=1)),
            DueReminder(3, 1, 1, ReminderKind.WHEREABOUTS, 0, now - timedelta(days=40)),
            DueReminder(4, 1, 1, ReminderKind.SNOOZE, 0, now - timedelta(hours=2)),
            DueReminder(5, 1, 1, "future_kind", 0, now - timedelta(hours=1)),
            DueReminder(6, 2, 3, ReminderKind.NUDGE_PASSWORD, 0, now - timedelta(days=1)),
            DueReminder(7, 2, 3, ReminderKind.NUDGE_REVOKE, 0, now - timedelta(days=2)),
        ]
    )
    send, _ = select_deliverable(rows, now)
    bundles = bundle_by_user(send)
    assert list(bundles) == [1, 2]
    assert [(r.kind, r.key_id, r.stage) for r in bundles[1]] == [
        (ReminderKind.EXPIRY, 1, 3),  # expires 20 Nov: fewest days left
        (ReminderKind.EXPIRY, 2, 7),  # expires 25 Nov
        (ReminderKind.SNOOZE, 1, 0),
        (ReminderKind.WHEREABOUTS, 1, 0),
        (ReminderKind.NUDGE_SMS, 2, 0),
        (ReminderKind.CHECKUP, None, 0),
        ("future_kind", 1, 0),  # unknown kinds go last rather than failing the scan
    ]
    assert [r.kind for r in bundles[2]] == [
        ReminderKind.EXPIRY, ReminderKind.NUDGE_REVOKE, ReminderKind.NUDGE_PASSWORD
    ]


def test_bundle_orders_expiry_by_actual_days_left_not_stage() -> None:
    now = almaty(2025, 11, 18, 12)
    # Key 1: stage 7 was due 5 days ago -> expires in 2 days. Key 2: stage 3 due today -> 3 days.
    stale_stage = DueReminder(1, 1, 1, ReminderKind.EXPIRY, 7, almaty(2025, 11, 13, 10))
    fresh_stage = DueReminder(2, 1, 2, ReminderKind.EXPIRY, 3, almaty(2025, 11, 18, 10))
    bundles = bundle_by_user([fresh_stage, stale_stage])
    assert ids(bundles[1]) == [1, 2]
    assert days_left(EXPIRES, now, ALMATY) == 2


def test_bundle_empty() -> None:
    assert bundle_by_user([]) == {}
