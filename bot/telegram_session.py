"""The Bot API session: aiogram's aiohttp session, with calls that carry no file sent as JSON.

aiogram posts every call as a form. Without files that form is urlencoded, and its text is
percent-escaped byte by byte in Python: encoding a Kazakh answer with a keyboard costs about 2.8x
what one JSON body costs (`python benchmarks/request_body.py`: 169 µs against 60 µs per call).
The Bot API takes application/json for every method; uploads keep aiogram's multipart form.
"""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError, ClientTimeout

JSON_HEADERS = {"Content-Type": "application/json"}


class JsonBodySession(AiohttpSession):
    def json_body(self, bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
        """The call's parameters as one JSON object, or None when it uploads a file. Values are
        prepared as aiogram prepares form fields (defaults resolved, dates as timestamps)."""
        files: dict[str, InputFile] = {}
        body: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            # aiogram leaves out empty fields but sends empty lists and objects ("[]", "{}").
            if prepared or isinstance(prepared, (dict, list)):
                body[key] = prepared
        if files:
            return None
        return cast(str, self.json_dumps(body)).encode()

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
