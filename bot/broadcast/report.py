"""The admin's progress message (edited every few seconds) and the final report."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter

from bot.broadcast.pacing import Pacer
from bot.broadcast.sender import send_paced
from bot.i18n import Translator
from storage.broadcasts import BroadcastDTO, Counts

if TYPE_CHECKING:
    from bot.broadcast.engine import BroadcastEngine

logger = logging.getLogger(__name__)


def format_eta(seconds: float) -> str:
    seconds = max(0, math.ceil(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Reporter:
    def __init__(self, bot: Bot, translator: Translator, every: float) -> None:
        self.bot, self.translator, self.every = bot, translator, every
        self.message_ids: dict[int, int] = {}

    async def _lang(self, engine: BroadcastEngine, chat_id: int) -> str:
        async with engine.pool() as session:
            admin = await engine.repos(session).users.get_by_tg(chat_id)
        return admin.language if admin else "ru"

    async def _text(self, engine: BroadcastEngine, b: BroadcastDTO, msg_id: str) -> str:
        async with engine.pool() as session:
            counts = await engine.repos(session).broadcasts.counts(b.id)
        return self.render(await self._lang(engine, b.progress_chat or 0), msg_id, b, counts,
                           engine.paid_rps if b.paid else engine.rps)

    def render(self, lang: str, msg_id: str, b: BroadcastDTO, c: Counts, rps: float) -> str:
        return self.translator.get(
            lang, msg_id, id=b.id, total=c.total, sent=c["sent"], failed=c.failed,
            blocked=c["blocked"], excluded=c["excluded"], unknown=c["unknown"],
            remaining=c.remaining, eta=format_eta(c.remaining / rps),
        )

    async def open(self, engine: BroadcastEngine, b: BroadcastDTO) -> None:
        """Send the progress message once per broadcast (a resumed run reuses it)."""
        if b.progress_chat is None:
            return
        if b.progress_message_id is not None:
            self.message_ids[b.id] = b.progress_message_id
            return
        try:
            text = await self._text(engine, b, "broadcast-progress")
            message = await self.bot.send_message(b.progress_chat, text)
        except TelegramAPIError as exc:
            logger.warning("broadcast %s: no progress message (%s)", b.id, type(exc).__name__)
            return
        self.message_ids[b.id] = message.message_id
        async with engine.pool() as session:
            await engine.repos(session).broadcasts.set_progress_message(b.id, message.message_id)
            await session.commit()

    async def loop(self, engine: BroadcastEngine, b: BroadcastDTO, pacer: Pacer) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.update(engine, b, pacer)

    async def update(self, engine: BroadcastEngine, b: BroadcastDTO, pacer: Pacer) -> None:
        message_id = self.message_ids.get(b.id)
        if b.progress_chat is None or message_id is None:
            return
        text = await self._text(engine, b, "broadcast-progress")
        await pacer.acquire(b.progress_chat)  # edits count against the same flood limits
        try:
            await self.bot.edit_message_text(text, chat_id=b.progress_chat, message_id=message_id)
        except TelegramRetryAfter as exc:
            pacer.penalize(exc.retry_after)
        except TelegramAPIError as exc:  # "message is not modified" and the like
            logger.debug("broadcast %s: progress edit skipped (%s)", b.id, type(exc).__name__)

    async def final(
        self, engine: BroadcastEngine, b: BroadcastDTO, counts: Counts, pacer: Pacer
    ) -> None:
        if b.progress_chat is None:
            return
        await self.update(engine, b, pacer)
        lang = await self._lang(engine, b.progress_chat)
        text = self.render(lang, "broadcast-report", b, counts, engine.rps)
        await send_paced(self.bot, pacer, b.progress_chat, text)
