"""The admin's progress message (edited every few seconds) and the final report."""

from __future__ import annotations

import asyncio
import logging
import math

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter

from bot.delivery import Outcome, Pacer, Policy, send_with_retry
from bot.i18n import Translator
from storage.broadcasts import BroadcastDTO, Counts
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.repositories import Repos

logger = logging.getLogger(__name__)

# The final report: a few 429 waits and connection retries, then it is given up (logged).
REPORT_POLICY = Policy(max_attempts=5, connect_retries=2, backoff=1.0)


def format_eta(seconds: float) -> str:
    seconds = max(0, math.ceil(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Reporter:
    def __init__(
        self, bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
        pacer: Pacer, every: float,
    ) -> None:
        self.bot, self.pool, self.cipher, self.translator = bot, pool, cipher, translator
        self.pacer, self.every = pacer, every
        self.message_ids: dict[int, int] = {}

    async def _lang(self, chat_id: int) -> str:
        async with self.pool() as session:
            admin = await Repos.build(session, self.cipher).users.get_by_tg(chat_id)
        return admin.language if admin else "ru"

    async def _text(self, b: BroadcastDTO, msg_id: str) -> str:
        async with self.pool() as session:
            counts = await Repos.build(session, self.cipher).broadcasts.counts(b.id)
        return self.render(await self._lang(b.progress_chat or 0), msg_id, b, counts)

    def render(self, lang: str, msg_id: str, b: BroadcastDTO, c: Counts) -> str:
        rps = self.pacer.rate(paid=b.paid)
        return self.translator.get(
            lang, msg_id, id=b.id, total=c.total, sent=c["sent"], failed=c.failed,
            blocked=c["blocked"], excluded=c["excluded"], unknown=c["unknown"],
            remaining=c.remaining, eta=format_eta(c.remaining / rps),
        )

    async def open(self, b: BroadcastDTO) -> None:
        """Send the progress message once per broadcast (a resumed run reuses it)."""
        if b.progress_chat is None:
            return
        if b.progress_message_id is not None:
            self.message_ids[b.id] = b.progress_message_id
            return
        try:
            text = await self._text(b, "broadcast-progress")
            await self.pacer.acquire(b.progress_chat)
            message = await self.bot.send_message(b.progress_chat, text)
        except TelegramAPIError as exc:
            logger.warning("broadcast %s: no progress message (%s)", b.id, type(exc).__name__)
            return
        self.message_ids[b.id] = message.message_id
        async with self.pool() as session:
            await Repos.build(session, self.cipher).broadcasts.set_progress_message(
                b.id, message.message_id
            )
            await session.commit()

    async def loop(self, b: BroadcastDTO) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.update(b)

    async def update(self, b: BroadcastDTO) -> None:
        message_id = self.message_ids.get(b.id)
        if b.progress_chat is None or message_id is None:
            return
        text = await self._text(b, "broadcast-progress")
        await self.pacer.acquire(b.progress_chat)  # edits count against the same flood limits
        try:
            await self.bot.edit_message_text(text, chat_id=b.progress_chat, message_id=message_id)
        except TelegramRetryAfter as exc:
            await self.pacer.back_off(exc.retry_after)
        except TelegramAPIError as exc:  # "message is not modified" and the like
            logger.debug("broadcast %s: progress edit skipped (%s)", b.id, type(exc).__name__)

    async def final(self, b: BroadcastDTO, counts: Counts) -> None:
        if b.progress_chat is None:
            return
        await self.update(b)
        lang = await self._lang(b.progress_chat)
        text = self.render(lang, "broadcast-report", b, counts)
        result = await send_with_retry(self.bot, self.pacer, b.progress_chat, text, REPORT_POLICY)
        if result.outcome is not Outcome.SENT:
            logger.warning("broadcast %s: final report not sent (%s)", b.id, result.outcome)
