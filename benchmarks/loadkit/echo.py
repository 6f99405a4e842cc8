"""The baseline: a bare aiogram bot that echoes messages and answers button presses.

    TELEGRAM_API_URL=... BOT_TOKEN=... python benchmarks/loadkit/echo.py

Same aiogram, same long polling and HTTP session as the real bot; nothing of ours.
"""

from __future__ import annotations

import asyncio
import gc
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message


def echo_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "ok")

    @dp.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    return dp


async def main() -> None:
    gc.freeze()  # as `python -m bot run` does: no slow full collections of aiogram's models
    api = TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"])
    bot = Bot(os.environ["BOT_TOKEN"], session=AiohttpSession(api=api))
    dp = echo_dispatcher()
    # The same collector settings as bot.runtime.settle_heap, so that the ratio compares the
    # bots' work and not their garbage collection tuning (not imported: it would load ours).
    gc.collect(1)
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    await dp.start_polling(bot, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())
