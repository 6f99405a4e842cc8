"""Start-up that explains itself: wait for Telegram with a one-line log per attempt, stop
with one line when the token is refused."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)

logger = logging.getLogger("bot")
PUBLIC_API = "https://api.telegram.org"
MAX_DELAY = 60


class TokenRejected(Exception):
    """Telegram answered 401: retrying cannot help, the token must be fixed."""


def backoff(attempt: int) -> int:
    """Seconds before the next attempt: 1, 2, 4, … capped at a minute."""
    return min(2 ** min(attempt, 6), MAX_DELAY)


async def connect(
    bot: Bot, api_url: str | None, stop: asyncio.Event,
    prepare: Callable[[], Awaitable[None]],
) -> bool:
    """Reach Telegram (getMe), then run `prepare` (the command menus); retry while Telegram is
    out of reach. False if asked to stop meanwhile; TokenRejected on 401."""
    attempt = 0
    while True:
        try:
            await bot.me()
            await prepare()
            return True
        except TelegramUnauthorizedError:
            raise TokenRejected(
                "Telegram rejected BOT_TOKEN (401 Unauthorized): check the token @BotFather gave"
            ) from None
        except (TelegramNetworkError, TelegramServerError):
            delay = backoff(attempt)
            # The URL never holds the token (aiogram adds /bot<token>/ itself); no traceback.
            logger.warning("cannot reach Telegram at %s, retrying in %d s",
                           api_url or PUBLIC_API, delay)
        try:
            await asyncio.wait_for(stop.wait(), delay)
            return False
        except TimeoutError:
            attempt += 1
