"""`--transport null`: both dispatchers in this process, updates fed as polling would feed
them (one task each), Bot API calls answered by the Flow without HTTP. With `--profile` the
closed-loop phase of our bot runs under cProfile and the top costs per update are printed."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import resource
import time
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.types import Update

from benchmarks.loadkit.echo import echo_dispatcher
from benchmarks.loadkit.flow import Adaptive, Flow, Replay
from benchmarks.loadkit.people import People
from benchmarks.loadkit.transport import null_session

TOKEN = "4242:BENCH-token-for-an-in-process-session"


async def pump(flow: Flow, dp: Dispatcher, bot: Bot) -> None:
    """What long polling does with each batch: validate, then one task per update."""
    tasks: set[asyncio.Task[Any]] = set()
    while True:
        await flow.ready.wait()
        for raw in flow.take(100):
            update = Update.model_validate(raw, context={"bot": bot})
            task = asyncio.create_task(dp.feed_update(bot, update))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.sleep(0)


async def kilt_dispatcher(tmp: Path, data_key: bytes) -> tuple[Dispatcher, str]:
    from bot.app import build_dispatcher
    from bot.config import Settings
    from bot.i18n import Translator
    from storage.database import create_engine, create_session_pool, migrate
    from storage.encryption import FieldCipher
    from storage.write_behind import WriteBehind

    url = f"sqlite+aiosqlite:///{tmp}/bot.sqlite3"
    await migrate(url)
    settings = Settings(_env_file=None, bot_token=TOKEN, database_url=url, data_dir=tmp,
                        throttle_per_minute=1_000_000)
    pool = create_session_pool(create_engine(url))
    dp = build_dispatcher(settings, pool, FieldCipher(data_key), Translator(),
                          write_behind=WriteBehind(pool))  # as bot/runtime.py runs it
    return dp, url


def top_costs(profile: cProfile.Profile, updates: int, limit: int = 10) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    rows = []
    for (path, line, func), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((own, cumulative, calls, f"{Path(path).name}:{line}({func})", path))
    lines = [f"top {limit} own-time costs per update ({updates} updates):"]
    for own, cum, calls, name, _ in sorted(rows, reverse=True)[:limit]:
        lines.append(f"  {own / updates * 1e6:8.0f} µs own {cum / updates * 1e6:8.0f} µs cum "
                     f"{calls / updates:6.1f} calls  {name}")
    ours = [r for r in rows if any(f"/{d}/" in r[4] for d in ("bot", "handlers", "storage"))]
    lines.append(f"top {limit} of our functions by cumulative time per update:")
    for own, cum, calls, name, _ in sorted(ours, key=lambda r: -r[1])[:limit]:
        lines.append(f"  {cum / updates * 1e6:8.0f} µs cum {own / updates * 1e6:8.0f} µs own "
                     f"{calls / updates:6.1f} calls  {name}")
    return "\n".join(lines)


async def run_null(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from benchmarks.load import add_keys, certificates, phase_stats
    from bot.concurrency import commit_before_send
    from bot.model_init import settle_bot_context_init

    settle_bot_context_init()  # as `python -m bot run` does (both bots here: echo's types too)
    people = People(args.users, args.consent, certificates())
    flow = Flow(people)
    started = time.monotonic()
    data_key = os.urandom(32)
    dp, url = await kilt_dispatcher(tmp, data_key)
    props = DefaultBotProperties(parse_mode=ParseMode.HTML)
    bot = commit_before_send(Bot(TOKEN, session=null_session(flow), default=props))
    out: dict[str, Any] = {"startup_s": time.monotonic() - started}
    feeder = asyncio.create_task(pump(flow, dp, bot))
    consenting = sum(p.will_consent for p in people.all)
    await flow.closed("setup", Adaptive(people, setup=True), 2 * consenting, args.concurrency)
    out["keys"] = await add_keys(url, data_key, people)
    await flow.closed("warmup", Adaptive(people), args.warmup, args.concurrency)
    profile = cProfile.Profile() if args.profile else None
    if profile:
        profile.enable()
    seconds = await flow.closed("closed", Adaptive(people), args.updates, args.concurrency)
    if profile:
        profile.disable()
        print(top_costs(profile, args.updates))
        if os.environ.get("KILT_PROFILE_OUT"):
            profile.dump_stats(os.environ["KILT_PROFILE_OUT"])
    opened = await flow.opened("open", Adaptive(people), args.open_updates, args.rate)
    feeder.cancel()
    out["kilt"] = {"closed": phase_stats(flow, "closed", seconds),
                   "open": phase_stats(flow, "open", opened)}
    # One process holds both bots here: its peak RSS is reported for ours, none for echo.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.update(lost=flow.lost, mix=people.counts, peak_rss_mb=round(peak, 1))
    echo_flow = Flow(people)
    echo_bot = Bot(TOKEN, session=null_session(echo_flow), default=props)
    feeder = asyncio.create_task(pump(echo_flow, echo_dispatcher(), echo_bot))
    out["baseline_startup_s"] = 0.0
    replay = {phase: Replay(flow.sent[phase], 10_000_000 * (n + 1))
              for n, phase in enumerate(("warmup", "closed", "open"))}
    await echo_flow.closed("warmup", replay["warmup"], args.warmup, args.concurrency)
    seconds = await echo_flow.closed("closed", replay["closed"], args.updates, args.concurrency)
    opened = await echo_flow.opened("open", replay["open"], args.open_updates, args.rate)
    feeder.cancel()
    out["echo"] = {"closed": phase_stats(echo_flow, "closed", seconds),
                   "open": phase_stats(echo_flow, "open", opened)}
    out.update(baseline_lost=echo_flow.lost, baseline_peak_rss_mb=0.0)
    return out
