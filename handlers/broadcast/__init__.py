"""/broadcast for admins (compose, audience, schedule, confirm) and the refusal for others."""

from __future__ import annotations

from handlers.broadcast.dialog import build_router

__all__ = ["build_router"]
