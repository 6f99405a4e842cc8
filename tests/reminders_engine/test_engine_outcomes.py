"""What the reminder scan does with each delivery outcome it gets from bot.delivery."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramServerError
from aiogram.methods import SendMessage, TelegramMethod

from bot.reminders.engine import ReminderEngine
from storage.repositories import Repos
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession

from .conftest import World  # noqa: TID252


def delivered_then(session: RecordingSession, error: Exception) -> Any:
    """The first send reaches Telegram (recorded) and then fails with error on the way back."""
    used = [False]

    def fail(method: TelegramMethod[Any]) -> Exception | None:
        if isinstance(method, SendMessage) and not used[0]:
            used[0] = True
            session.requests.append(method)
            return error
        return None

    return fail


MID_SEND = [
    TelegramNetworkError(SendMessage(chat_id=1, text="x"), "Request timeout error"),
    TelegramServerError(SendMessage(chat_id=1, text="x"), "Bad Gateway"),
]


@pytest.mark.parametrize("error", MID_SEND, ids=["timeout", "5xx"])
async def test_network_error_mid_send_repeats_the_reminder_never_loses_it(
    world: World, engine: ReminderEngine, session: RecordingSession, clock: FakeClock,
    error: Exception,
) -> None:
    """At-least-once: Telegram may have the message, so the next scan sends it again."""
    user = await world.user(6101)
    await world.key(user, world.today(3))
    session.failures.append(delivered_then(session, error))
    report = await engine.scan()
    assert report["retry"] == 1 and report["sent"] == 0
    assert "claimed" not in {s for *_, s in await world.statuses(user)}  # back to pending
    report = await engine.scan()
    assert report["sent"] == 1 and len(session.sent()) == 2  # the one repeat, nothing lost
    assert (await engine.scan())["sent"] == 0


async def test_chat_not_found_is_handled_like_a_block(
    world: World, engine: ReminderEngine, session: RecordingSession,
) -> None:
    """The reminder is kept for when the user writes again, not marked failed and lost."""
    user = await world.user(6102)
    await world.key(user, world.today(3))
    gone = TelegramBadRequest(SendMessage(chat_id=6102, text="x"), "Bad Request: chat not found")
    session.failures.append(lambda method: gone if isinstance(method, SendMessage) else None)
    report = await engine.scan()
    assert report["blocked"] == 1
    statuses = {s for kind, *_, s in await world.statuses(user) if kind == "expiry"}
    assert "failed" not in statuses and "claimed" not in statuses
    async with world.pool() as s:
        marked = await Repos.build(s, world.cipher).users.get(user.id)
    assert marked is not None and marked.blocked_at is not None
