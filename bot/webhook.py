"""Webhook mode: an aiohttp server behind a TLS-terminating reverse proxy."""

from __future__ import annotations

import asyncio

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.config import ConfigError, Settings


async def serve_webhook(bot: Bot, dp: Dispatcher, settings: Settings, stop: asyncio.Event) -> None:
    if not settings.webhook_url:
        raise ConfigError("WEBHOOK_URL is not set: the public https URL Telegram should call")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(app, path="/webhook")
    setup_application(app, dp, bot=bot)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    await bot.set_webhook(
        settings.webhook_url.rstrip("/") + "/webhook",
        secret_token=secret,
        allowed_updates=dp.resolve_used_update_types(),
    )
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
