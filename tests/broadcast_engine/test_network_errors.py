"""Broadcast network errors: a request that may have reached Telegram is never sent again."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import SendMessage, TelegramMethod
from aiohttp import ClientConnectorError

from bot.broadcast.engine import BroadcastEngine
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.broadcast_engine.conftest import MakeUsers
from tests.broadcast_engine.helpers import new_broadcast
from tests.conftest import ADMIN_ID, FakeClock
from tests.support.telegram import RecordingSession


def refused(method: TelegramMethod[Any]) -> TelegramNetworkError:
    """What aiogram raises when the connection cannot be opened: nothing reached Telegram."""
    key = SimpleNamespace(host="api.telegram.org", port=443, ssl=True)
    cause = ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))  # type: ignore[arg-type]
    error = TelegramNetworkError(method, f"ClientConnectorError: {cause}")
    error.__cause__ = cause
    return error


def for_chat(session: RecordingSession, chat: int, times: int, *, delivered: bool) -> None:
    left = [times]

    def fail(method: TelegramMethod[Any]) -> Exception | None:
        if isinstance(method, SendMessage) and method.chat_id == chat and left[0] > 0:
            left[0] -= 1
            if delivered:  # Telegram got it; the answer was lost (a timeout)
                session.requests.append(method)
                return TelegramNetworkError(method, "Request timeout error")
            return refused(method)
        return None

    session.failures.append(fail)


def sends(session: RecordingSession) -> Counter[int]:
    return Counter(int(m.chat_id) for m in session.sent(SendMessage) if m.chat_id != ADMIN_ID)


async def counts(pool: SessionPool, cipher: FieldCipher, broadcast_id: int) -> dict[str, int]:
    async with pool() as s:
        return (await Repos.build(s, cipher).broadcasts.counts(broadcast_id)).by_status


async def test_timeout_mid_request_is_unknown_and_never_resent(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock,
) -> None:
    await make_users([1101, 1102, 1103])
    for_chat(session, 1102, 1, delivered=True)
    broadcast_id = await new_broadcast(pool, cipher, clock)
    await engine.resume_due()
    await engine.wait_idle()
    assert await counts(pool, cipher, broadcast_id) == {"sent": 2, "unknown": 1}
    await engine.resume_due()  # the next pass: nothing is pending, nothing is sent again
    await engine.wait_idle()
    assert sends(session) == {1101: 1, 1102: 1, 1103: 1}


async def test_refused_connection_is_retried_then_left_pending_for_the_next_pass(
    make_users: MakeUsers, engine: BroadcastEngine, session: RecordingSession,
    pool: SessionPool, cipher: FieldCipher, clock: FakeClock,
) -> None:
    engine.policy = replace(engine.policy, backoff=0.0)
    await make_users([1201, 1202, 1203])
    for_chat(session, 1201, 2, delivered=False)  # retried in place: sent on the third try
    for_chat(session, 1202, 4, delivered=False)  # past the 3 retries: pending
    broadcast_id = await new_broadcast(pool, cipher, clock)
    await engine.resume_due()
    await engine.wait_idle()
    assert await counts(pool, cipher, broadcast_id) == {"sent": 2, "pending": 1}
    assert await engine.resume_due() == [broadcast_id]  # still running: the next pass sends it
    await engine.wait_idle()
    assert await counts(pool, cipher, broadcast_id) == {"sent": 3}
    assert sends(session) == {1201: 1, 1202: 1, 1203: 1}
