"""/reminders settings and the buttons under reminder messages."""

from __future__ import annotations

from handlers.reminders.settings import build_router

__all__ = ["build_router"]
