"""A fake Bot API that counts deliveries exactly, run as its own process by benchmarks/scale.py.

    python -m benchmarks.loadkit.counting_api MARKER

Prints its base URL on the first line of stdout, then serves `/bot<token>/<method>` until
SIGTERM. No send limit (Telegram's is the bot's own pacer's business here) and no updates:
getUpdates holds the long poll for its `timeout` and returns [], so any number of instances
may poll it at once (real Telegram would answer a second poller 409 Conflict). sendMessage is
counted per (chat_id, kind): kind "b" when the text holds MARKER (the benchmark's broadcast),
else "r" (a reminder), and per token, so the benchmark can tell the instances apart.

`GET /stats` answers the counts; `POST /reset` clears them (before the next run).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections import Counter
from typing import Any

from aiohttp import web

BOT = {"id": 4242, "is_bot": True, "first_name": "Kilt", "username": "kilt_bench_bot",
       "can_join_groups": True, "can_read_all_group_messages": False,
       "supports_inline_queries": False}


class Counts:
    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.reset()

    def reset(self) -> None:
        self.sent: Counter[tuple[int, str]] = Counter()
        self.by_token: Counter[str] = Counter()
        self.first_by_token: dict[str, float] = {}
        self.first = self.last = 0.0
        self.span: dict[str, list[float]] = {}  # kind -> [first, last]
        self.message_id = 0

    def record(self, token: str, chat_id: int, text: str) -> int:
        now = time.monotonic()
        if not self.sent:
            self.first = now
        self.last = now
        kind = "b" if self.marker in text else "r"
        self.sent[(chat_id, kind)] += 1
        self.span.setdefault(kind, [now, now])[1] = now
        self.by_token[token] += 1
        self.first_by_token.setdefault(token, now)
        self.message_id += 1
        return self.message_id

    def stats(self) -> dict[str, Any]:
        """Counts as compact JSON: per kind, the chats delivered once and those delivered more
        often (with their count), plus the clock of the first and last delivery."""
        once: dict[str, list[int]] = {"r": [], "b": []}
        more: dict[str, dict[int, int]] = {"r": {}, "b": {}}
        for (chat, kind), n in self.sent.items():
            if n == 1:
                once[kind].append(chat)
            else:
                more[kind][chat] = n
        return {"total": sum(self.sent.values()), "first": self.first, "last": self.last,
                "once": once, "more": more, "by_token": dict(self.by_token),
                "first_by_token": {t: round(s - self.first, 3)
                                   for t, s in self.first_by_token.items()},
                "span": {k: [round(a - self.first, 3), round(b - self.first, 3)]
                         for k, (a, b) in self.span.items()}}


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return dict(await request.json())
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def build_app(counts: Counts) -> web.Application:
    async def method(request: web.Request) -> web.Response:
        name, token = request.match_info["method"], request.match_info["token"]
        params = await _params(request)
        result: Any = True
        if name == "getMe":
            result = BOT
        elif name == "getUpdates":
            await asyncio.sleep(min(float(params.get("timeout") or 0), 30.0))
            result = []
        elif name == "sendMessage":
            chat = int(params["chat_id"])
            text = str(params.get("text") or "")
            result = {"message_id": counts.record(token, chat, text), "date": int(time.time()),
                      "from": BOT, "chat": {"id": chat, "type": "private", "first_name": "U"},
                      "text": text}
        elif name == "getMyCommands":
            result = []
        return web.json_response({"ok": True, "result": result})

    async def stats(request: web.Request) -> web.Response:
        return web.Response(text=json.dumps(counts.stats()), content_type="application/json")

    async def reset(request: web.Request) -> web.Response:
        counts.reset()
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/bot{token}/{method}", method)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    return app


async def serve(marker: str) -> None:
    runner = web.AppRunner(build_app(Counts(marker)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"http://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
