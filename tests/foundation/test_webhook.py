"""Webhook mode: Telegram's secret header is checked and updates reach the dispatcher before
the answer."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import SetWebhook
from pydantic import SecretStr

from bot.config import ConfigError, Settings
from bot.i18n import Translator
from bot.webhook import serve_webhook
from tests.infra.service import free_port
from tests.support.telegram import RecordingSession, UpdateFactory


async def test_webhook_serves_updates_with_secret(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    settings: Settings,
    translator: Translator,
) -> None:
    port = free_port()
    hooked = settings.model_copy(
        update={
            "webhook_url": "https://bot.example.kz/",
            "webhook_port": port,
            "webhook_secret": SecretStr("s3cret-token_1"),
        }
    )
    stop = asyncio.Event()
    server = asyncio.create_task(serve_webhook(bot, dp, hooked, stop))
    url = f"http://127.0.0.1:{port}/webhook"
    update = UpdateFactory(9100, "kk").message("/help").model_dump(mode="json", exclude_none=True)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):  # wait for the server to listen
                if session.sent(SetWebhook):
                    break
                await asyncio.sleep(0.05)
            [hook] = session.sent(SetWebhook)
            assert hook.url == "https://bot.example.kz/webhook"
            assert hook.secret_token == "s3cret-token_1"
            async with http.post(url, json=update) as bad:
                assert bad.status == 401  # no secret header: not from Telegram
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_1"}
            async with http.post(url, json=update, headers=headers) as good:
                assert good.status == 200
                # Answered after the update was handled, not before (bot/webhook.py): the
                # reply is already out when Telegram may send this chat's next update.
                assert session.last_text() == translator.get("kk", "help-text")
    finally:
        stop.set()
        await server


async def test_webhook_without_url_is_a_config_error(
    dp: Dispatcher, bot: Bot, settings: Settings
) -> None:
    with pytest.raises(ConfigError, match="WEBHOOK_URL"):
        await serve_webhook(bot, dp, settings, asyncio.Event())
