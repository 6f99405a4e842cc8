"""JsonBodySession against a real HTTP server: what goes on the wire and what comes back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import ClientDecodeError, TelegramBadRequest, TelegramRetryAfter
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot.telegram_session import JsonBodySession

TOKEN = "42:TEST-token-for-the-session"
CHAT = 5_000_000_001  # above 2^32: ids are not squeezed into 32 bits anywhere


class Api:
    """Answers like Telegram and keeps each request's method, content type and parameters."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.answer: tuple[int, dict[str, Any]] | None = None
        self.body = b""  # the last request's bytes

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            self.body = await request.read()
            params = json.loads(self.body)
        else:
            params = {k: (v if isinstance(v, str) else v.filename)
                      for k, v in (await request.post()).items()}
        self.requests.append((method, request.content_type, params))
        if self.answer is not None:
            status, body = self.answer
            return web.json_response(body, status=status)
        message = {"message_id": 7, "date": 1_700_000_000,
                   "chat": {"id": CHAT, "type": "private"}, "text": params.get("text", "")}
        return web.json_response({"ok": True, "result": message})


@pytest.fixture
async def api() -> AsyncIterator[tuple[Api, Bot]]:
    api = Api()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", api.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    session = JsonBodySession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}"))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    yield api, bot
    await session.close()
    await runner.cleanup()


async def test_a_message_goes_as_one_json_object(api: tuple[Api, Bot]) -> None:
    server, bot = api
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="Кілтті жаңарту", callback_data="key:renew:3")]])
    sent = await bot.send_message(CHAT, "ЭЦҚ <b>мерзімі</b> бітеді", reply_markup=markup,
                                  disable_notification=False)
    assert sent.message_id == 7 and sent.chat.id == CHAT
    method, content_type, params = server.requests[-1]
    assert (method, content_type) == ("sendMessage", "application/json")
    assert params == {
        "chat_id": CHAT, "text": "ЭЦҚ <b>мерзімі</b> бітеді",
        "parse_mode": "HTML",  # the bot's default, resolved as aiogram's form does
        "reply_markup": {"inline_keyboard": [[
            {"text": "Кілтті жаңарту", "callback_data": "key:renew:3"}]]},
    }  # False and None are left out, as aiogram leaves them out of a form
    # UTF-8 on the wire, not ASCII escapes (\u041a... is 6 bytes for each Kazakh letter).
    assert "Кілтті жаңарту".encode() in server.body and b"\\u" not in server.body


async def test_an_empty_list_is_still_sent(api: tuple[Api, Bot]) -> None:
    server, bot = api
    server.answer = (200, {"ok": True, "result": []})
    assert await bot.get_updates(offset=5, allowed_updates=[]) == []
    assert server.requests[-1][2] == {"offset": 5, "allowed_updates": []}


async def test_an_upload_keeps_the_multipart_form(api: tuple[Api, Bot]) -> None:
    server, bot = api
    server.answer = (200, {"ok": True, "result": {
        "message_id": 8, "date": 1_700_000_000, "chat": {"id": CHAT, "type": "private"},
        "document": {"file_id": "f", "file_unique_id": "u"}}})
    await bot.send_document(CHAT, BufferedInputFile(b"report", filename="keys.txt"),
                            caption="Есеп")
    method, content_type, params = server.requests[-1]
    assert (method, content_type) == ("sendDocument", "multipart/form-data")
    assert params["caption"] == "Есеп" and params["chat_id"] == str(CHAT)
    assert json.dumps(params).count("keys.txt") == 1


async def test_telegram_errors_are_aiograms_exceptions(api: tuple[Api, Bot]) -> None:
    server, bot = api
    server.answer = (429, {"ok": False, "error_code": 429, "description": "Too Many Requests",
                           "parameters": {"retry_after": 3}})
    with pytest.raises(TelegramRetryAfter) as slow:
        await bot.send_message(CHAT, "тест")
    assert slow.value.retry_after == 3
    server.answer = (400, {"ok": False, "error_code": 400,
                           "description": "Bad Request: message text is empty"})
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(CHAT, "тест")


async def test_a_sent_message_is_read_without_its_keyboard(api: tuple[Api, Bot]) -> None:
    server, bot = api
    keyboard = {"inline_keyboard": [[{"text": "Иә", "callback_data": "consent:yes"}]]}
    server.answer = (200, {"ok": True, "result": {
        "message_id": 9, "date": 1_700_000_000, "chat": {"id": CHAT, "type": "private"},
        "text": "Келісесіз бе?", "reply_markup": keyboard}})
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="Иә", callback_data="consent:yes")]])
    sent = await bot.send_message(CHAT, "Келісесіз бе?", reply_markup=markup)
    assert (sent.message_id, sent.text, sent.reply_markup) == (9, "Келісесіз бе?", None)
    assert sent.bot is bot  # bound like any aiogram result: shortcuts work on it
    # Anything else Telegram answers is read as aiogram reads it.
    server.answer = (200, {"ok": True, "result": True})
    assert await bot.answer_callback_query("q1") is True
    server.answer = (200, {"ok": True, "result": {
        "message_id": "not a number", "date": 1_700_000_000,
        "chat": {"id": CHAT, "type": "private"}}})
    with pytest.raises(ClientDecodeError):
        await bot.send_message(CHAT, "тест")
