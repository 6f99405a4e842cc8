"""Two ways to connect a bot to a Flow: a minimal fake Bot API over HTTP (the bot runs in
its own process and long-polls it), or an in-process session for profiling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

from aiohttp import web

from benchmarks.loadkit.flow import Flow

JSON_FIELDS = ("reply_markup", "allowed_updates", "commands", "scope")


def _decode(params: dict[str, Any]) -> dict[str, Any]:
    for name in JSON_FIELDS:
        value = params.get(name)
        if isinstance(value, str) and value[:1] in "{[":
            params[name] = json.loads(value)
    return params


class FakeBotApi:
    """`/bot<token>/<method>` answers like Telegram; getUpdates long-polls the Flow's queue.
    Each token has its flow (`flows`), so two bots can poll it at once; others get `flow`."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.flows: dict[str, Flow] = {}
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _method(self, request: web.Request) -> web.Response:
        method, flow = request.match_info["method"], self._flow(request)
        if request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            params = {k: v for k, v in form.items() if isinstance(v, str)}
        params = _decode(dict(params))
        if method == "getUpdates":
            result: Any = await self._updates(flow, params)
        else:
            result = flow.reply(method, params)
        return web.json_response({"ok": True, "result": result})

    async def _updates(self, flow: Flow, params: dict[str, Any]) -> list[dict[str, Any]]:
        if flow.first_poll is None:
            flow.take(0)  # start-up ends at the first poll, empty or not
        if not flow.queue:
            try:
                await asyncio.wait_for(flow.ready.wait(), float(params.get("timeout") or 0))
            except TimeoutError:
                return []
        return flow.take(int(params.get("limit") or 100))

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        return web.Response(body=self._flow(request).people.files.get(file_id, b""))

    def _flow(self, request: web.Request) -> Flow:
        return self.flows.get(request.match_info["token"], self.flow)


def null_session(flow: Flow) -> Any:
    """An aiogram session that hands every call to the Flow, without network or JSON I/O
    beyond what aiogram itself does (the old --transport null mode, for profiling)."""
    from aiogram import Bot
    from aiogram.client.session.base import BaseSession
    from aiogram.methods import TelegramMethod

    from bot.response_types import response_type

    class NullSession(BaseSession):
        async def close(self) -> None:
            return None

        async def make_request(
            self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
        ) -> Any:
            # The fields as the HTTP session would send them (defaults resolved, JSON parts).
            params: dict[str, Any] = {}
            for key, value in method.model_dump(warnings=False).items():
                prepared = self.prepare_value(value, bot=bot, files={})
                if prepared:
                    params[key] = prepared
            result = flow.reply(method.__api_method__, _decode(params))
            body = json.dumps({"ok": True, "result": result})
            response_type(method.__returning__)  # kept alive, as the bot's own session does
            return self.check_response(
                bot=bot, method=method, status_code=200, content=body).result

        async def stream_content(
            self, url: str, *args: Any, **kwargs: Any
        ) -> AsyncGenerator[bytes, None]:
            yield flow.people.files.get(url.rsplit("/", 1)[-1], b"")

    return NullSession()
