"""One paced message with Telegram's error handling; the caller owns the delivery row."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot.broadcast.pacing import Pacer

logger = logging.getLogger(__name__)

# A 429 storm longer than this hands the row back to the queue instead of holding it.
MAX_FLOOD_RETRIES = 8
NETWORK_RETRIES = 3


class Outcome(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the user blocked the bot or deleted the account
    MISSING = "missing"  # 400 chat not found
    FAILED = "failed"  # any other 400, or network errors past the retry budget
    RETRY = "retry"  # never reached Telegram (flood control): safe to send later


async def send_paced(
    bot: Bot,
    pacer: Pacer,
    chat_id: int,
    text: str,
    *,
    paid: bool = False,
    acquired: bool = False,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[Outcome, str | None]:
    """Send text to chat_id within the pacer's limits; returns the outcome and a short error.

    Pass acquired=True when the caller already waited for the pacer (to claim the row right
    before the first attempt). A network error may hide a message Telegram did accept, so those
    retries are few and logged: they are the only way a recipient could get a message twice.
    """
    flood = network = 0
    while True:
        if not acquired:
            await pacer.acquire(chat_id)
        acquired = False
        try:
            await bot.send_message(chat_id, text, allow_paid_broadcast=True if paid else None)
            return Outcome.SENT, None
        except TelegramRetryAfter as exc:
            pacer.penalize(exc.retry_after)
            flood += 1
            if flood > MAX_FLOOD_RETRIES:
                return Outcome.RETRY, "flood control"
        except TelegramForbiddenError:
            return Outcome.BLOCKED, "forbidden"
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                return Outcome.MISSING, "chat not found"
            # Texts are validated before a broadcast starts, so this is rare: keep the reason.
            return Outcome.FAILED, exc.message[:200]
        except (TelegramNetworkError, TelegramServerError) as exc:
            network += 1
            logger.warning("broadcast send failed (%s), attempt %d", type(exc).__name__, network)
            if network >= NETWORK_RETRIES:
                return Outcome.FAILED, type(exc).__name__
            await sleep(0.5 * 2**network)
