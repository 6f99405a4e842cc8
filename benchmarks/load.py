"""Load benchmark: updates/s through the real dispatcher vs a bare aiogram echo bot.

Both bots get the same updates through the same in-process Bot API stand-in (no network), so
the ratio shows what our middlewares, database and handlers cost on top of aiogram itself.

    python benchmarks/load.py [--updates 3000] [--users 300] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.session.base import BaseSession  # noqa: E402
from aiogram.methods import GetMe, TelegramMethod  # noqa: E402
from aiogram.types import Chat, Message, MessageEntity, Update, User  # noqa: E402

BOT_USER = User(id=42, is_bot=True, first_name="Kilt", username="kilt_bench_bot")
TOKEN = "4242:BENCH-token-for-an-in-process-session"


class NullApiSession(BaseSession):
    """Answers every Bot API call instantly, like a very fast Telegram."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.ids = itertools.count(1)

    async def close(self) -> None:
        return None

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: Any = None) -> Any:
        self.calls += 1
        if isinstance(method, GetMe):
            return BOT_USER
        chat_id = getattr(method, "chat_id", None)
        if chat_id is not None:
            return Message(
                message_id=next(self.ids),
                date=datetime.now(),
                chat=Chat(id=int(chat_id), type="private"),
                from_user=BOT_USER,
                text=getattr(method, "text", None),
            )
        return True

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


def make_updates(n: int, users: int) -> list[Update]:
    texts = ["/help", "/start", "как продлить эцп", "эцк паролин умытып калдым", "/mykeys"]
    out = []
    for i in range(n):
        uid = 10_000 + i % users
        text = texts[i % len(texts)]
        entities = None
        if text.startswith("/"):
            entities = [MessageEntity(type="bot_command", offset=0, length=len(text))]
        lang = "kk" if uid % 2 else "ru"
        msg = Message(
            message_id=i + 1,
            date=datetime.now(),
            text=text,
            entities=entities,
            chat=Chat(id=uid, type="private"),
            from_user=User(id=uid, is_bot=False, first_name="U", language_code=lang),
        )
        out.append(Update(update_id=i + 1, message=msg))
    return out


async def drive(dp: Dispatcher, bot: Bot, updates: list[Update], concurrency: int) -> list[float]:
    latencies: list[float] = []
    queue: asyncio.Queue[Update] = asyncio.Queue()
    for u in updates:
        queue.put_nowait(u)

    async def worker() -> None:
        while not queue.empty():
            update = queue.get_nowait()
            start = time.perf_counter()
            await dp.feed_update(bot, update)
            latencies.append((time.perf_counter() - start) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def echo_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    return dp


async def kilt_dispatcher(tmp: Path) -> tuple[Dispatcher, float]:
    start = time.perf_counter()
    from bot.app import build_dispatcher
    from bot.config import Settings
    from bot.i18n import Translator
    from storage.database import create_engine, create_session_pool, migrate
    from storage.encryption import FieldCipher

    url = f"sqlite+aiosqlite:///{tmp / 'load.sqlite3'}"
    await migrate(url)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=TOKEN,
        database_url=url,
        data_dir=tmp,
        throttle_per_minute=100_000,
    )
    pool = create_session_pool(create_engine(url))
    dp = build_dispatcher(settings, pool, FieldCipher(os.urandom(32)), Translator())
    return dp, time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    updates = make_updates(args.updates, args.users)

    base_bot = Bot(TOKEN, session=NullApiSession())
    t0 = time.perf_counter()
    await drive(echo_dispatcher(), base_bot, updates, args.concurrency)
    baseline = len(updates) / (time.perf_counter() - t0)
    print(f"baseline echo bot: {baseline:,.0f} updates/s")

    with tempfile.TemporaryDirectory() as tmp:
        dp, startup = await kilt_dispatcher(Path(tmp))
        bot = Bot(TOKEN, session=NullApiSession())
        t0 = time.perf_counter()
        lat = await drive(dp, bot, updates, args.concurrency)
        rate = len(updates) / (time.perf_counter() - t0)
    lat.sort()
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"kilt bot: {rate:,.0f} updates/s ({rate / baseline:.2f} of the echo bot)")
    print(
        f"latency p50 {p50:.2f} ms, p99 {p99:.2f} ms; start-up {startup:.2f} s; "
        f"peak RSS {rss:.0f} MB"
    )
    print(
        json.dumps(
            {
                "updates_per_s": round(rate, 1),
                "baseline_updates_per_s": round(baseline, 1),
                "ratio": round(rate / baseline, 3),
                "p50_ms": round(p50, 3),
                "p99_ms": round(p99, 3),
                "peak_rss_mb": round(rss, 1),
                "startup_s": round(startup, 3),
                "updates": len(updates),
                "users": args.users,
                "concurrency": args.concurrency,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
