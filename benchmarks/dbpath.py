"""The database path of one update, alone: the real ContextMiddleware and CommitBeforeSend
around a handler that reads the FSM state and "replies" (a read-only update), or also moves
the dialog on (set_state + set_data: a dialog step). CPU time per update, minimum of seven
repetitions, so other processes on the machine barely move it.

    python benchmarks/dbpath.py [--pg URL]   # SQLite in a temporary directory by default

To compare two versions, run it from each tree (e.g. a `git archive` of the other commit).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot  # noqa: E402
from aiogram.dispatcher.middlewares.user_context import EVENT_CONTEXT_KEY, EventContext  # noqa: E402
from aiogram.fsm.middleware import FSMContextMiddleware  # noqa: E402
from aiogram.fsm.storage.base import StorageKey  # noqa: E402
from aiogram.fsm.storage.memory import DisabledEventIsolation  # noqa: E402
from aiogram.methods import SendMessage  # noqa: E402
from aiogram.types import User  # noqa: E402

from bot.concurrency import CommitBeforeSend  # noqa: E402
from bot.fsm_storage import DatabaseStorage, storage_key  # noqa: E402
from bot.i18n import Translator  # noqa: E402
from bot.middlewares import ContextMiddleware  # noqa: E402
from storage.database import create_engine, create_session_pool, migrate  # noqa: E402
from storage.encryption import FieldCipher  # noqa: E402
from storage.repositories import Repos  # noqa: E402
from tests.support.telegram import make_bot  # noqa: E402

USERS = 300
Handler = Callable[[Any, dict[str, Any]], Awaitable[None]]


async def measure(url: str) -> dict[str, list[float]]:
    await migrate(url)
    engine = create_engine(url)
    pool = create_session_pool(engine)
    cipher = FieldCipher(b"k" * 32)
    now = datetime.now(UTC)
    bot: Bot = make_bot()
    # The key aiogram's FSM middleware reads for a private chat: ContextMiddleware prefetches it.
    keys = [storage_key(StorageKey(bot.id, i, i)) for i in range(USERS)]
    async with pool() as s:
        repos = Repos.build(s, cipher)
        for i in range(USERS):
            await repos.users.create(i, "ru", "Asia/Almaty", now, True)
            await repos.fsm.save(keys[i], i, now, state="KeyForm:kind", data={"kind": "file"})
        await s.commit()
    fsm = FSMContextMiddleware(DatabaseStorage(pool, cipher), DisabledEventIsolation())
    middleware = ContextMiddleware(pool, cipher, Translator(), lambda: now, fsm)
    commit_before_send = CommitBeforeSend()
    reply = SendMessage(chat_id=1, text="…")
    people = [User(id=i, is_bot=False, first_name="a") for i in range(USERS)]
    contexts = [EventContext(chat=None, user=people[i], thread_id=None) for i in range(USERS)]

    async def _sent(bot: Bot, method: Any) -> None:
        return None  # the null transport: what is measured is the commit before it

    sent: Any = _sent

    async def read_only(event: Any, data: dict[str, Any]) -> None:
        await data["repos"].fsm.get_state(keys[data["event_from_user"].id])
        await commit_before_send(sent, bot, reply)

    async def dialog_step(event: Any, data: dict[str, Any]) -> None:
        fsm, key = data["repos"].fsm, keys[data["event_from_user"].id]
        state = await fsm.get_state(key)
        values = await fsm.get_data(key)
        step = "KeyForm:holder" if state == "KeyForm:kind" else "KeyForm:kind"
        await fsm.save(key, 1, now, state=step)
        await fsm.save(key, 1, now, data={**values, "n": 1})
        await commit_before_send(sent, bot, reply)

    async def update(handler: Handler, i: int) -> None:
        data = {"bot": bot, "event_from_user": people[i % USERS],
                EVENT_CONTEXT_KEY: contexts[i % USERS]}
        await middleware(handler, cast(Any, None), data)

    out: dict[str, list[float]] = {}
    for name, handler, count in (("read-only update", read_only, 2000),
                                 ("dialog-step update", dialog_step, 1000)):
        for i in range(200):
            await update(handler, i)
        out[name] = []
        for _ in range(7):
            gc.collect()
            gc.disable()
            started = time.process_time()
            for i in range(count):
                await update(handler, i)
            out[name].append((time.process_time() - started) / count * 1e6)
            gc.enable()
    await bot.session.close()
    await engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL URL (postgresql+asyncpg://…), empty database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite+aiosqlite:///{tmp}/dbpath.sqlite3"
        result = asyncio.run(measure(url))
    summary: dict[str, object] = {"backend": "postgresql" if args.pg else "sqlite"}
    for name, values in result.items():
        ordered = sorted(values)
        print(f"{name}: CPU {ordered[0]:.0f} µs min, {ordered[3]:.0f} µs median per update")
        summary[name.split()[0].replace("-", "_") + "_min_us"] = round(ordered[0])
        summary[name.split()[0].replace("-", "_") + "_median_us"] = round(ordered[3])
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
