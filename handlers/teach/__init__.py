"""/stats and /learned for admins: teach the matcher from real unanswered questions."""

from __future__ import annotations

from handlers.teach.dialog import build_router

__all__ = ["build_router"]
