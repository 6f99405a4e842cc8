"""One message through the pacer, with Telegram's answers turned into an `Outcome`.

The same handling for every sender (reminders, broadcasts, weekly tips, reports); what differs
is the `Policy`. The caller owns its database row and decides what each outcome means for it.

Whether Telegram may have the message is what matters for duplicates:
- 429, 403, 400 and other 4xx answers: Telegram answered, nothing was sent;
- the connection could not be opened (refused, DNS, connect timeout): nothing was sent either,
  so retrying in place is safe;
- a timeout or a dropped connection after the request went out, a 5xx or an unreadable answer:
  Telegram may have delivered it. That is `UNKNOWN` and is never retried here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from aiohttp import ClientConnectorError, ConnectionTimeoutError

from bot.delivery.pacer import Pacer, Sleep

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    SENT = "sent"
    RETRY_LATER = "retry_later"  # Telegram does not have it: safe to send again later
    BLOCKED = "blocked"  # 403: the user blocked the bot or deleted the account
    CHAT_NOT_FOUND = "chat_not_found"  # 400 chat not found
    REJECTED = "rejected"  # another 400 (or 413): this message will never be accepted
    UNKNOWN = "unknown"  # the request may have reached Telegram: sending again may duplicate


@dataclass(frozen=True)
class Policy:
    """How one kind of message is sent."""

    # Requests in all; each 429 and each connection that could not be opened costs one.
    max_attempts: int = 5
    # Connections that could not be opened (nothing sent) retried in place after backoff,
    # 2 × backoff, ...; past that, or with 0, RETRY_LATER (the caller's next run retries).
    connect_retries: int = 0
    backoff: float = 0.5
    # allow_paid_broadcast: Telegram lifts the broadcast limit for a fee; the pacer's paid lane.
    paid: bool = False
    # Asked after each pacer slot, right before the request; False = RETRY_LATER, nothing sent.
    still_valid: Callable[[], bool] | None = None


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    error: str | None = None  # a short reason for the record; never personal data


def never_sent(exc: TelegramNetworkError) -> bool:
    """True when the connection failed before the request could leave this machine."""
    return isinstance(exc.__cause__, ClientConnectorError | ConnectionTimeoutError)


async def send_with_retry(
    bot: Bot,
    pacer: Pacer,
    chat_id: int,
    text: str,
    policy: Policy,
    *,
    reply_markup: InlineKeyboardMarkup | None = None,
    acquired: bool = False,
    sleep: Sleep = asyncio.sleep,
) -> SendResult:
    """Send text to chat_id within the pacer's limits and classify what happened.

    Pass acquired=True when the caller already took the first pacer slot (a broadcast claims
    its row between the slot and the request, so the claim is as young as possible).
    """
    reason = "no attempt"
    connect_failures = 0
    for _ in range(policy.max_attempts):
        if not acquired:
            await pacer.acquire(chat_id, paid=policy.paid)
        acquired = False
        if policy.still_valid is not None and not policy.still_valid():
            return SendResult(Outcome.RETRY_LATER, "no longer valid")
        try:
            await bot.send_message(
                chat_id, text, reply_markup=reply_markup,
                allow_paid_broadcast=True if policy.paid else None,
            )
            return SendResult(Outcome.SENT)
        except TelegramRetryAfter as exc:
            await pacer.back_off(exc.retry_after)  # flood control is bot-wide
            reason = "flood control"
        except TelegramForbiddenError:
            return SendResult(Outcome.BLOCKED, "forbidden")
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                return SendResult(Outcome.CHAT_NOT_FOUND, "chat not found")
            logger.error("message rejected by Telegram: %s", exc.message)
            return SendResult(Outcome.REJECTED, exc.message[:200])
        except TelegramEntityTooLarge:
            return SendResult(Outcome.REJECTED, "too large")
        except TelegramNetworkError as exc:
            name = type(exc.__cause__ or exc).__name__
            if not never_sent(exc):
                logger.warning("send interrupted (%s): Telegram may have the message", name)
                return SendResult(Outcome.UNKNOWN, name)
            reason = f"unreachable ({name})"
            if connect_failures >= policy.connect_retries:
                logger.warning("Telegram unreachable (%s): left for later", name)
                return SendResult(Outcome.RETRY_LATER, reason)
            logger.warning("Telegram unreachable (%s), retrying", name)
            await sleep(policy.backoff * 2**connect_failures)
            connect_failures += 1
        except (TelegramServerError, ClientDecodeError) as exc:
            logger.warning("Telegram failed mid-request (%s)", type(exc).__name__)
            return SendResult(Outcome.UNKNOWN, type(exc).__name__)
        except TelegramAPIError as exc:
            # 401, 404, 409, a migrated chat: answered, nothing sent, and not this message's
            # fault, so it is kept for later rather than dropped.
            logger.error("send refused by Telegram (%s): %s", type(exc).__name__, exc.message)
            return SendResult(Outcome.RETRY_LATER, type(exc).__name__)
    return SendResult(Outcome.RETRY_LATER, reason)
