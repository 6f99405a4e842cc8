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
        "disable_notification": False,  # aiogram's form sends "false" too
    }  # None is left out, as aiogram leaves it out of a form
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


def _aiogram_form(session: JsonBodySession, bot: Bot, method: Any) -> dict[str, Any]:
    """What aiogram's own session would send, as JSON values (its form fields JSON-encode
    objects and lists; plain values are strings)."""
    form: dict[str, Any] = {}
    for key, value in method.model_dump(warnings=False).items():
        prepared = session.prepare_value(value, bot=bot, files={})
        if prepared:
            form[key] = json.loads(prepared) if prepared[:1] in "{[" else prepared
    return form


def _as_form(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | dict | list) else str(v).lower()
            if isinstance(v, bool) else str(v) for k, v in body.items()}


async def test_bodies_carry_what_aiograms_form_carries_and_kept_keyboards_stay_right() -> None:
    """The body is built from the fields as they are (no model_dump) and a keyboard's prepared
    form is kept by identity: for many kinds of calls it says what aiogram's form says, a kept
    keyboard is reused only for the very same object and bot."""
    from datetime import UTC, datetime, timedelta

    from aiogram.methods import (
        AnswerCallbackQuery,
        BanChatMember,
        EditMessageText,
        SendChatAction,
        SendMessage,
    )
    from aiogram.types import LinkPreviewOptions, MessageEntity, ReplyParameters

    session = JsonBodySession()
    html = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    plain = Bot(TOKEN, session=session)
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="Кілтті жаңарту", callback_data="key:renew:1"),
        InlineKeyboardButton(text="Бас тарту", callback_data="cancel"),
    ]])
    methods = [
        SendMessage(chat_id=CHAT, text="ЭЦҚ <b>кілті</b>", reply_markup=markup),
        SendMessage(chat_id=CHAT, text="x", entities=[MessageEntity(type="bold", offset=0,
                    length=1)], link_preview_options=LinkPreviewOptions(is_disabled=True),
                    reply_parameters=ReplyParameters(message_id=3)),
        EditMessageText(chat_id=CHAT, message_id=9, text="ok", reply_markup=markup),
        AnswerCallbackQuery(callback_query_id="q1", text="✓", show_alert=False),
        SendChatAction(chat_id=CHAT, action="typing"),
        BanChatMember(chat_id=CHAT, user_id=5, until_date=datetime(2030, 1, 1, tzinfo=UTC)),
        BanChatMember(chat_id=CHAT, user_id=5, until_date=timedelta(days=400)),
    ]
    for _ in range(2):  # the second round reads kept keyboards
        for bot in (html, plain):
            for method in methods:
                body = session.json_body(bot, method)
                assert body is not None
                assert _as_form(json.loads(body)) == _aiogram_form(session, bot, method), method
    # A keyboard equal to a kept one but another object, and a changed text, are not confused.
    other = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="Басқа", callback_data="other")]])
    body = session.json_body(html, SendMessage(chat_id=CHAT, text="y", reply_markup=other))
    assert body is not None and json.loads(body)["reply_markup"] == {
        "inline_keyboard": [[{"text": "Басқа", "callback_data": "other"}]]}
    await session.close()
