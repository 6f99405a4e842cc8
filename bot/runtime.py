"""What `python -m bot run` does: config → database → bot → dispatcher → polling/webhook."""

from __future__ import annotations

import asyncio
import logging
import signal
from functools import partial

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.app import build_dispatcher, register_commands
from bot.broadcast.engine import BroadcastEngine
from bot.concurrency import UserLocks
from bot.config import Settings
from bot.context import utc_now
from bot.delivery import LocalPacer
from bot.i18n import Translator
from bot.job_context import JobContext
from bot.learning import LearnedLoader, schedule_refresh
from bot.qa.service import build_service
from bot.scheduler import build_scheduler
from bot.startup import connect
from storage.database import create_engine, create_session_pool, migrate
from storage.encryption import FieldCipher

logger = logging.getLogger("bot")


def make_bot(settings: Settings) -> Bot:
    session = AiohttpSession()
    if settings.telegram_api_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.require_token(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


async def main(settings: Settings, webhook: bool = False) -> None:
    current, old = settings.data_keys()
    cipher = FieldCipher(current, old)
    await migrate(settings.database_url)
    engine = create_engine(settings.database_url)
    pool = create_session_pool(engine)
    translator = Translator()
    bot = make_bot(settings)
    # The one pacer of this bot: reminders, broadcasts and tips all take their slots from it.
    pacer = LocalPacer(settings.send_rps)
    broadcasts = BroadcastEngine(bot, pool, cipher, translator, settings, utc_now, pacer)
    dp = build_dispatcher(
        settings, pool, cipher, translator, utc_now,
        qa=build_service(), isolation=UserLocks(), broadcasts=broadcasts,
    )
    scheduler = build_scheduler(
        JobContext(bot, pool, cipher, translator, settings, utc_now, pacer, broadcasts)
    )
    learned = LearnedLoader(dp["qa"], pool, cipher)
    await learned.refresh()  # phrasings admins taught, before the first question
    schedule_refresh(scheduler, learned)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        commands = partial(register_commands, bot, translator, settings.admin_ids)
        if not await connect(bot, settings.telegram_api_url, stop, commands):
            return  # stopped while Telegram was out of reach
        scheduler.start()
        logger.info("bot started (%s)", "webhook" if webhook else "long polling")
        if webhook:
            from bot.webhook import serve_webhook

            await serve_webhook(bot, dp, settings, stop)
        else:
            polling = asyncio.create_task(
                dp.start_polling(bot, handle_signals=False, close_bot_session=False)
            )
            await stop.wait()
            await dp.stop_polling()
            await polling
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await bot.session.close()
        await engine.dispose()
        logger.info("bot stopped")
