"""Webhook mode: an aiohttp server behind a TLS-terminating reverse proxy."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.config import ConfigError, Settings

Drain = Callable[[], Awaitable[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve_webhook(
    bot: Bot,
    dp: Dispatcher,
    settings: Settings,
    stop: asyncio.Event,
    *,
    routes: Callable[[web.Application], None] | None = None,
    drain: Drain | None = None,
) -> None:
    """Serves /webhook (plus `routes`, e.g. /healthz and /metrics) until `stop` is set; then
    stops listening, awaits `drain` (updates in flight) and only then shuts the app down."""
    if not settings.webhook_url:
        raise ConfigError("WEBHOOK_URL is not set: the public https URL Telegram should call")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None

    @web.middleware
    async def refuse_when_stopping(request: web.Request, handler: Handler) -> web.StreamResponse:
        # An update arriving on a kept-alive connection after SIGTERM is refused: Telegram
        # sends it again later, and the proxy gives it to another instance.
        if stop.is_set() and request.path == "/webhook":
            return web.Response(status=503, text="shutting down")
        return await handler(request)

    app = web.Application(middlewares=[refuse_when_stopping])
    # Answered only once the update is handled (aiogram answers at once by default). Telegram
    # sends a chat's updates one at a time, the next one after our answer, so with several
    # instances a user's next step can never overtake the previous one on another instance
    # (an early answer let it: README "Production"). aiogram still answers after 55 s and
    # finishes the update in the background, before Telegram's 60 s re-send.
    SimpleRequestHandler(
        dispatcher=dp, bot=bot, secret_token=secret, handle_in_background=False
    ).register(app, path="/webhook")
    if routes is not None:
        routes(app)
    setup_application(app, dp, bot=bot)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    try:
        # Every instance registers the same URL: the last one to start wins, which is the same.
        await bot.set_webhook(
            settings.webhook_url.rstrip("/") + "/webhook",
            secret_token=secret,
            allowed_updates=dp.resolve_used_update_types(),
        )
        await stop.wait()
    finally:
        # New connections are refused (the proxy retries another instance) while the updates
        # already accepted finish; the app's shutdown would close the bot session under them.
        await site.stop()
        if drain is not None:
            await drain()
        await runner.cleanup()
