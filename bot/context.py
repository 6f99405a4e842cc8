"""Per-update values shared between the DB middleware and the FSM storage."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from storage.repositories import Repos

Clock = Callable[[], datetime]

# The FSM storage writes through the update's own session, so that one SQLite
# write transaction per update never waits on another from the same process.
current_repos: ContextVar[Repos | None] = ContextVar("current_repos", default=None)


def utc_now() -> datetime:
    return datetime.now(UTC)
