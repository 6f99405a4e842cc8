"""The Bot API session: aiogram's aiohttp session, with calls that carry no file sent as JSON,
and answers to our own sends read without the keyboard we just sent.

aiogram posts every call as a form. Without files that form is urlencoded, and its text is
percent-escaped byte by byte in Python. The Bot API takes application/json for every method, so
a call without files goes as one JSON object, written (and answers read) with orjson: UTF-8, a
Kazakh letter 2 bytes where the standard library's ASCII escape takes 6. Encoding a Kazakh
answer with a keyboard (`python benchmarks/request_body.py`): form 121 µs and 3,264 bytes;
JSON 24 µs and 1,232 bytes (30 µs and 3,023 bytes with the standard library's json). Uploads
keep aiogram's multipart form.

Telegram answers a sendMessage or an edit with the whole message, including its inline keyboard.
aiogram validates every button into a model with its own post-init: reading the answer to a
four-button message costs 1.7x what it costs without the keyboard (54 µs against 31 µs,
`python benchmarks/request_body.py`). The bot never reads a sent message's keyboard back (only
its message_id), so a successful answer's `reply_markup` is dropped before validation.
"""

from __future__ import annotations

from contextlib import suppress
from http import HTTPStatus
from typing import Any, cast

import orjson
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError, ClientTimeout
from pydantic import ValidationError

from bot.response_types import response_type

JSON_HEADERS = {"Content-Type": "application/json"}


def json_text(value: Any) -> str:
    """aiogram's `json_dumps` (a str: it also fills form fields of uploads), with orjson."""
    return orjson.dumps(value).decode()


class JsonBodySession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("json_loads", orjson.loads)
        kwargs.setdefault("json_dumps", json_text)
        super().__init__(**kwargs)

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        """aiogram's check, minus the keyboard of a sent message (see the module docstring).
        Errors and anything unexpected take aiogram's own path unchanged."""
        if status_code == HTTPStatus.OK:
            try:
                data = self.json_loads(content)
            except ValueError:
                data = None
            if isinstance(data, dict) and data.get("ok") is True:
                result = data.get("result")
                if isinstance(result, dict) and "message_id" in result and "chat" in result:
                    result.pop("reply_markup", None)
                returning = response_type(method.__returning__)
                with suppress(ValidationError):  # aiogram's path below raises its own error
                    return cast(Response[TelegramType],
                                returning.model_validate(data, context={"bot": bot}))
        return super().check_response(bot, method, status_code, content)

    def json_body(self, bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
        """The call's parameters as one JSON object, or None when it uploads a file. Values are
        prepared as aiogram prepares form fields (defaults resolved, dates as timestamps)."""
        files: dict[str, InputFile] = {}
        body: dict[str, Any] = {}
        # None is never sent (aiogram drops it too, nested ones included): not dumped at all,
        # most of a method's fields are unset (`python benchmarks/request_body.py`).
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            # aiogram leaves out empty fields but sends empty lists and objects ("[]", "{}").
            if prepared or isinstance(prepared, (dict, list)):
                body[key] = prepared
        if files:
            return None
        return orjson.dumps(body)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url, data=body, headers=JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast(TelegramType, response.result)
