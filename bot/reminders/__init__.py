"""Reminder planning (pure, clock passed in) and calendar export for EDS key expiry."""

from __future__ import annotations

from bot.reminders.calendar import CalendarKey, build_ics
from bot.reminders.planning import (
    DueReminder,
    PlannedReminder,
    Window,
    bundle_by_user,
    days_left,
    key_status,
    next_delivery_moment,
    plan_checkup,
    plan_expiry,
    plan_nudges,
    plan_whereabouts,
    select_deliverable,
)

__all__ = [
    "CalendarKey",
    "DueReminder",
    "PlannedReminder",
    "Window",
    "build_ics",
    "bundle_by_user",
    "days_left",
    "key_status",
    "next_delivery_moment",
    "plan_checkup",
    "plan_expiry",
    "plan_nudges",
    "plan_whereabouts",
    "select_deliverable",
]
