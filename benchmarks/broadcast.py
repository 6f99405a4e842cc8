"""Broadcast benchmark: the real engine against the local Telegram (../shared/tta) at 30 msg/s.

The shim enforces a bot-wide 30 msg/s bucket, answers a few injected 429s and 403s (blocked
chats). The sender runs in a child process that is SIGKILLed midway and restarted; duplicates and
skips are counted per chat from the shim's call log. Last line: one JSON object (CONTRACT.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.broadcasts import Audience  # noqa: E402
from storage.database import create_engine, create_session_pool, migrate  # noqa: E402
from storage.encryption import FieldCipher  # noqa: E402
from storage.models import User  # noqa: E402
from storage.repositories import Repos  # noqa: E402

ADMIN_CHAT = 900001
FIRST_CHAT = 5_000_000


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipients", type=int, default=10_000, help="number of users (10000)")
    p.add_argument("--limit-rps", type=float, default=30.0, help="the shim's limit, msg/s (30)")
    p.add_argument("--workers", type=int, default=4, help="sender tasks (4)")
    p.add_argument("--kill-at", type=float, default=0.4, help="SIGKILL after this share sent")
    p.add_argument("--blocked", type=int, default=20, help="chats answering 403 (20)")
    p.add_argument("--flood", type=int, default=3, help="injected 429s (retry_after 1 s)")
    # Internal: the sender child process.
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--api", help=argparse.SUPPRESS)
    p.add_argument("--token", help=argparse.SUPPRESS)
    return p.parse_args()


async def worker(args: argparse.Namespace) -> None:
    """The sender process: resume every due/running broadcast until none is left."""
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    from bot.broadcast.engine import BroadcastEngine
    from bot.config import Settings
    from bot.context import utc_now
    from bot.delivery import LocalPacer
    from bot.i18n import Translator

    settings = Settings(_env_file=None, database_url=args.db)
    cipher = FieldCipher(base64.b64decode(os.environ["BENCH_DATA_KEY"]))
    engine = create_engine(args.db)
    pool = create_session_pool(engine)
    session = AiohttpSession(api=TelegramAPIServer.from_base(args.api))
    bot = Bot(args.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    # The sender process's one pacer, at the shim's limit (as SEND_RPS would set it).
    pacer = LocalPacer(args.limit_rps)
    sender = BroadcastEngine(
        bot, pool, cipher, Translator(), settings, utc_now, pacer, workers=args.workers,
        stale_after=timedelta(seconds=5),
    )
    try:
        while await sender.resume_due():
            await sender.wait_idle()
            await asyncio.sleep(0.5)  # stale claims of a killed run expire after a few seconds
    finally:
        await bot.session.close()
        await engine.dispose()


async def seed(url: str, cipher: FieldCipher, n: int) -> int:
    await migrate(url)
    engine = create_engine(url)
    pool = create_session_pool(engine)
    now = datetime.now(UTC)
    async with pool() as session:
        for i in range(n):
            tg = FIRST_CHAT + i
            session.add(User(
                tg_index=cipher.blind_index(tg), tg_id_enc=cipher.encrypt(str(tg), "users.tg_id"),
                language="kk" if i % 2 else "ru", timezone="Asia/Almaty", consent_at=now,
                created_at=now, last_seen_at=now, weekly_tips=True, broadcasts_opt_in=True,
            ))
        repos = Repos.build(session, cipher)
        texts = {"kk": "🔐 <b>Кеңес</b>: ЭЦҚ құпиясөзін ешкімге айтпаңыз.",
                 "ru": "🔐 <b>Совет</b>: никому не сообщайте пароль от ЭЦП."}
        broadcast_id = await repos.broadcasts.create(
            ADMIN_CHAT, texts, Audience(), now, now, progress_chat=ADMIN_CHAT
        )
        await session.commit()
    await engine.dispose()
    return broadcast_id


def spawn(
    args: argparse.Namespace, db: str, api: str, token: str, key: str
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, __file__, "--worker", "--db", db, "--api", api, "--token", token,
            "--workers", str(args.workers), "--limit-rps", str(args.limit_rps)]
    env = {**os.environ, "BENCH_DATA_KEY": key}
    return subprocess.Popen(argv, env=env, start_new_session=True)


def segment_rate(calls: list[dict[str, Any]]) -> tuple[int, float]:
    """Accepted sends and the time they took (first to last call of the segment)."""
    ok = [c["t"] for c in calls if c["status"] != 429]
    return len(ok), (max(ok) - min(ok)) if len(ok) > 1 else 0.0


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from tests.infra.tta import TTAClient, TTAServer, make_token

    tmp = Path(tempfile.mkdtemp(prefix="kilt-bench-broadcast-"))
    db = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
    key = base64.b64encode(os.urandom(32)).decode()
    n = args.recipients
    await seed(db, FieldCipher(base64.b64decode(key)), n)
    blocked = [FIRST_CHAT + 7 + i * max(1, n // max(args.blocked, 1)) for i in range(args.blocked)]
    blocked = [c for c in blocked if c < FIRST_CHAT + n]
    step = max(1, n // (args.flood + 1))
    flood = [{"method": "sendMessage", "chat_id": FIRST_CHAT + 3 + i * step, "code": 429,
              "retry_after": 1, "times": 1} for i in range(args.flood)]
    config = {"global_rps": args.limit_rps, "blocked": blocked, "inject": flood}
    token = make_token()
    print(f"recipients {n}, limit {args.limit_rps} msg/s, {len(blocked)} blocked, "
          f"{len(flood)} injected 429s, {args.workers} workers")
    with TTAServer(shim_config=config) as tta:
        async with TTAClient(tta.base_url, token) as tg:
            started = time.time()
            proc = spawn(args, db, tta.base_url, token, key)
            kill_after = int(n * args.kill_at)
            while (await tg.stats()).get("sendMessage 200", 0) < kill_after:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed = time.time()
            print(f"killed the sender (SIGKILL) after {killed - started:.1f} s")
            proc = spawn(args, db, tta.base_url, token, key)
            restarted = time.time()
            first = await tg.wait_for_call("sendMessage", since=restarted, timeout=60)
            resume = first["t"] - restarted
            print(f"restarted: first new send after {resume:.2f} s")
            while proc.poll() is None:  # noqa: ASYNC110 - a child process, not an event
                await asyncio.sleep(0.5)
            finished = time.time()
            calls = [c for c in await tg.calls("sendMessage")
                     if int(c["params"]["chat_id"]) != ADMIN_CHAT]
    before = [c for c in calls if c["t"] <= killed]
    after = [c for c in calls if c["t"] >= restarted]
    (n1, d1), (n2, d2) = segment_rate(before), segment_rate(after)
    rate = (n1 + n2) / (d1 + d2) if d1 + d2 else 0.0
    per_chat = Counter(int(c["params"]["chat_id"]) for c in calls if c["status"] == 200)
    duplicates = sum(v - 1 for v in per_chat.values() if v > 1)
    expected = {FIRST_CHAT + i for i in range(n)} - set(blocked)
    skipped = len(expected - set(per_chat))
    statuses = Counter(c["status"] for c in calls)
    print(f"sendMessage calls by status: {dict(statuses)}")
    print(f"achieved {rate:.2f} msg/s = {rate / args.limit_rps:.3f} of the limit "
          f"(sending time {d1 + d2:.1f} s, wall {finished - started:.1f} s)")
    print(f"duplicates {duplicates}, skipped {skipped}, resume {resume:.2f} s")
    return {"recipients": n, "limit_rps": args.limit_rps,
            "rate_ratio": round(rate / args.limit_rps, 4), "duplicates": duplicates,
            "skipped": skipped, "resume_seconds": round(resume, 3),
            "blocked": len(blocked), "flood_429": statuses.get(429, 0)}


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.worker:
        asyncio.run(worker(arguments))
    else:
        print(json.dumps(asyncio.run(main(arguments))))
