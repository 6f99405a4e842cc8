"""The Bot API session: aiogram's aiohttp session, with calls that carry no file sent as JSON,
and answers to our own sends read without the keyboard we just sent.

aiogram posts every call as a form. Without files that form is urlencoded, and its text is
percent-escaped byte by byte in Python. The Bot API takes application/json for every method, so
a call without files goes as one JSON object, written (and answers read) with orjson: UTF-8, a
Kazakh letter 2 bytes where the standard library's ASCII escape takes 6. Encoding a Kazakh
answer with a keyboard (`python benchmarks/request_body.py`): form 121-145 µs and 3,264 bytes;
JSON 1,232 bytes, in 6 µs with a keyboard built once and 17 µs with one made for the message
(24 µs when the whole method went through `model_dump` first). Uploads keep aiogram's
multipart form.

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
from aiogram.types import InputFile, TelegramObject
from aiohttp import ClientError, ClientTimeout
from pydantic import ValidationError

from bot.response_types import response_type

JSON_HEADERS = {"Content-Type": "application/json"}
PREPARED_OBJECTS = 256  # keyboards kept prepared (JsonBodySession._prepared_object)


def json_text(value: Any) -> str:
    """aiogram's `json_dumps` (a str: it also fills form fields of uploads), with orjson."""
    return orjson.dumps(value).decode()


class JsonBodySession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("json_loads", orjson.loads)
        kwargs.setdefault("json_dumps", json_text)
        super().__init__(**kwargs)
        self._prepared: dict[int, tuple[TelegramObject, Bot, Any]] = {}

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
        # The fields as they are, not `model_dump()`ed: pydantic would serialise every field and
        # every button first, and `prepare_value` then walks the result again. None is never
        # sent (aiogram drops it too, nested ones included); most of a method's fields are None.
        fields = method.__dict__.items()
        if method.__pydantic_extra__:
            fields = {**method.__dict__, **method.__pydantic_extra__}.items()
        for key, value in fields:
            if value is None:
                continue
            if isinstance(value, TelegramObject):
                prepared = self._prepared_object(value, bot, files)
            else:
                prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            # As aiogram's form: an empty text is left out; false, 0, [] and {} are sent.
            if prepared is not None and prepared != "":
                body[key] = prepared
        if files:
            return None
        return orjson.dumps(body)

    def _prepared_object(self, value: TelegramObject, bot: Bot, files: dict[str, InputFile]
                         ) -> Any:
        """A keyboard (or another Telegram object) prepared for the body. A keyboard built once
        (bot/keyboards.py `built_once`) goes out in many messages: the object is frozen and
        nothing changes it after it is built, so its prepared form is kept, by identity (the
        entry holds the object, so its id cannot be reused) and per bot (defaults may differ).
        Bounded: a keyboard made for one message holds an entry until the cache is next
        cleared (at PREPARED_OBJECTS entries)."""
        entry = self._prepared.get(id(value))
        if entry is not None and entry[0] is value and entry[1] is bot:
            return entry[2]
        before = len(files)
        # Nones left out by pydantic first: a button has a dozen fields, mostly None.
        prepared = self.prepare_value(value.model_dump(warnings=False, exclude_none=True),
                                      bot=bot, files=files, _dumps_json=False)
        if len(files) == before:  # an upload inside is never kept
            if len(self._prepared) >= PREPARED_OBJECTS:
                self._prepared.clear()
            self._prepared[id(value)] = (value, bot, prepared)
        return prepared

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
