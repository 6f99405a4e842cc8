"""send_with_retry: every kind of Telegram answer, and network errors on a real aiohttp session."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.delivery import Outcome, Pacer, Policy, send_with_retry
from bot.telegram_session import JsonBodySession
from tests.support.telegram import TOKEN, RecordingSession

CHAT = 5001
DEFAULT = Policy()


class RecordingPacer:
    """A Pacer that grants every slot at once and remembers what it was asked."""

    def __init__(self) -> None:
        self.acquired: list[tuple[int, bool]] = []
        self.backoffs: list[float] = []

    async def acquire(self, chat_id: int, *, paid: bool = False) -> None:
        self.acquired.append((chat_id, paid))

    async def back_off(self, seconds: float) -> None:
        self.backoffs.append(seconds)

    def rate(self, *, paid: bool = False) -> float:
        return 25.0


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def pacer() -> RecordingPacer:
    return RecordingPacer()


def fail_times(session: RecordingSession, make: Callable[[Any], Exception], times: int) -> None:
    left = [times]

    def fail(method: TelegramMethod[Any]) -> Exception | None:
        if isinstance(method, SendMessage) and left[0] > 0:
            left[0] -= 1
            return make(method)
        return None

    session.failures.append(fail)


async def send(bot: Bot, pacer: Pacer, policy: Policy = DEFAULT, **kwargs: Any) -> Any:
    return await send_with_retry(bot, pacer, CHAT, "<b>Сәлем</b>", policy, **kwargs)


async def test_sent_with_markup_and_the_paid_flag(
    bot: Bot, session: RecordingSession, pacer: RecordingPacer
) -> None:
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="OK",
                                                                         callback_data="ok")]])
    result = await send(bot, pacer, reply_markup=markup)
    assert result.outcome is Outcome.SENT and result.error is None
    first = session.sent()[-1]
    assert first.reply_markup == markup and first.allow_paid_broadcast is None
    assert (await send(bot, pacer, Policy(paid=True))).outcome is Outcome.SENT
    assert session.sent()[-1].allow_paid_broadcast is True
    assert pacer.acquired == [(CHAT, False), (CHAT, True)]  # the paid lane of the pacer


async def test_429_backs_the_pacer_off_and_retries(
    bot: Bot, session: RecordingSession, pacer: RecordingPacer
) -> None:
    fail_times(session, lambda m: TelegramRetryAfter(m, "Too Many Requests", retry_after=7), 2)
    result = await send(bot, pacer)
    assert result.outcome is Outcome.SENT and len(session.sent()) == 1
    assert pacer.backoffs == [7, 7]  # the whole bot pauses, not just this sender
    assert len(pacer.acquired) == 3  # a new slot (after the pause) for every attempt


async def test_429_past_max_attempts_is_retry_later(
    bot: Bot, session: RecordingSession, pacer: RecordingPacer
) -> None:
    fail_times(session, lambda m: TelegramRetryAfter(m, "Too Many Requests", retry_after=1), 99)
    result = await send(bot, pacer, Policy(max_attempts=3))
    assert (result.outcome, result.error) == (Outcome.RETRY_LATER, "flood control")
    assert len(pacer.acquired) == 3 and pacer.backoffs == [1, 1, 1]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (lambda m: TelegramForbiddenError(m, "Forbidden: bot was blocked by the user"),
         Outcome.BLOCKED),
        (lambda m: TelegramForbiddenError(m, "Forbidden: user is deactivated"), Outcome.BLOCKED),
        (lambda m: TelegramBadRequest(m, "Bad Request: chat not found"), Outcome.CHAT_NOT_FOUND),
        (lambda m: TelegramBadRequest(m, "Bad Request: can't parse entities"), Outcome.REJECTED),
        (lambda m: TelegramEntityTooLarge(m, "Request Entity Too Large"), Outcome.REJECTED),
        # Telegram failed after taking the request: it may have delivered the message.
        (lambda m: TelegramServerError(m, "Bad Gateway"), Outcome.UNKNOWN),
        (lambda m: ClientDecodeError("Failed to decode object", ValueError(), "<html>"),
         Outcome.UNKNOWN),
        # Answered, nothing sent, not this message's fault: kept for later, not dropped.
        (lambda m: TelegramUnauthorizedError(m, "Unauthorized"), Outcome.RETRY_LATER),
    ],
)
async def test_final_answers_are_not_retried(
    bot: Bot, session: RecordingSession, pacer: RecordingPacer,
    error: Callable[[Any], Exception], outcome: Outcome,
) -> None:
    fail_times(session, error, 99)
    result = await send(bot, pacer, Policy(max_attempts=5, connect_retries=3))
    assert result.outcome is outcome and result.error
    assert len(pacer.acquired) == 1 and pacer.backoffs == []


async def test_still_valid_is_asked_before_every_attempt(
    bot: Bot, session: RecordingSession, pacer: RecordingPacer
) -> None:
    asked: list[int] = []

    def still_valid() -> bool:
        asked.append(len(pacer.acquired))
        return len(asked) < 2  # the claim gets too old while the 429 pause runs

    fail_times(session, lambda m: TelegramRetryAfter(m, "Too Many Requests", retry_after=30), 1)
    result = await send(bot, pacer, Policy(still_valid=still_valid))
    assert (result.outcome, result.error) == (Outcome.RETRY_LATER, "no longer valid")
    assert asked == [1, 2]  # after each slot was granted, right before the request
    assert session.sent() == []


async def test_acquired_skips_the_first_slot_only(
    bot: Bot, session: RecordingSession, pacer: RecordingPacer
) -> None:
    assert (await send(bot, pacer, acquired=True)).outcome is Outcome.SENT
    assert pacer.acquired == []
    fail_times(session, lambda m: TelegramRetryAfter(m, "Too Many Requests", retry_after=1), 1)
    assert (await send(bot, pacer, acquired=True)).outcome is Outcome.SENT
    assert pacer.acquired == [(CHAT, False)]


# ------------------------------------------------------------- network errors, for real
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def real_bot(port: int, timeout: float = 5.0) -> Bot:
    api = TelegramAPIServer.from_base(f"http://127.0.0.1:{port}")
    return Bot(TOKEN, session=JsonBodySession(api=api, timeout=timeout))


@pytest.fixture
async def hanging_up() -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server that reads each request and drops the connection without answering: the
    request reached 'Telegram', the answer never came back."""
    requests: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.read(65536))
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], requests
    server.close()
    await server.wait_closed()


@pytest.fixture
async def silent() -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server that reads each request and never answers (a timeout)."""
    requests: list[bytes] = []
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.read(65536))
        await done.wait()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], requests
    done.set()
    server.close()
    await server.wait_closed()


async def test_connection_refused_is_retried_with_backoff(pacer: RecordingPacer) -> None:
    bot, sleeps = await real_bot(closed_port()), Sleeps()
    try:
        policy = Policy(max_attempts=9, connect_retries=2, backoff=0.5)
        result = await send(bot, pacer, policy, sleep=sleeps)
    finally:
        await bot.session.close()
    assert result.outcome is Outcome.RETRY_LATER  # nothing reached Telegram: safe later
    assert result.error is not None and "ClientConnectorError" in result.error
    assert sleeps == [0.5, 1.0] and len(pacer.acquired) == 3


async def test_connection_refused_without_retries_is_retry_later_at_once(
    pacer: RecordingPacer,
) -> None:
    bot, sleeps = await real_bot(closed_port()), Sleeps()
    try:
        result = await send(bot, pacer, Policy(connect_retries=0), sleep=sleeps)
    finally:
        await bot.session.close()
    assert result.outcome is Outcome.RETRY_LATER and sleeps == [] and len(pacer.acquired) == 1


async def test_dropped_connection_is_unknown_and_never_resent(
    pacer: RecordingPacer, hanging_up: tuple[int, list[bytes]]
) -> None:
    port, requests = hanging_up
    bot, sleeps = await real_bot(port), Sleeps()
    try:
        result = await send(bot, pacer, Policy(max_attempts=9, connect_retries=3), sleep=sleeps)
    finally:
        await bot.session.close()
    assert result.outcome is Outcome.UNKNOWN
    assert len(requests) == 1 and b"sendMessage" in requests[0]  # it got there, exactly once
    assert sleeps == []


async def test_timeout_after_the_request_left_is_unknown(
    pacer: RecordingPacer, silent: tuple[int, list[bytes]]
) -> None:
    port, requests = silent
    bot = await real_bot(port, timeout=0.3)
    try:
        result = await send(bot, pacer, Policy(max_attempts=9, connect_retries=3))
    finally:
        await bot.session.close()
    assert result.outcome is Outcome.UNKNOWN and len(requests) == 1
