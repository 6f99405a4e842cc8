"""Reminder scan benchmark: compute and claim one day's due reminders among N keys.

    python benchmarks/reminder_scan.py [--keys 1000000] [--users 200000] [--backend sqlite]

Rows are bulk-loaded with executemany in batches (7 expiry stages + 1 whereabouts per key,
expiry dates spread over a year), then the engine's own decide-and-claim path runs at 10:00
Almaty on one day. Baseline: the naive full scan of every key computing days left in Python.
The last line is one JSON object (see CONTRACT.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bot.reminders.engine import ReminderEngine  # noqa: E402
from bot.reminders.planning import DEFAULT_OFFSETS, plan_expiry, plan_whereabouts  # noqa: E402
from storage.database import create_engine, create_session_pool, migrate  # noqa: E402

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 5, 0, 30, tzinfo=UTC)  # 10:00:30 in Almaty
BATCH = 20_000


def _ts(moment: datetime, sqlite: bool) -> object:
    # Exactly the text SQLAlchemy stores on SQLite, so range and keyset comparisons match.
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment


async def load(url: str, keys: int, users: int) -> float:
    started = time.perf_counter()
    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    rng = random.Random(7)
    stages = {d: plan_expiry(TODAY + timedelta(days=d)) for d in range(-5, 400)}
    created = NOW - timedelta(days=30)
    async with engine.begin() as conn:
        if sqlite:
            await conn.exec_driver_sql("PRAGMA synchronous=OFF")
        users_rows = [
            {"id": u, "ti": f"u{u}", "tg": b"x", "ca": _ts(created, sqlite),
             "ls": _ts(created, sqlite), "co": _ts(created, sqlite)}
            for u in range(1, users + 1)
        ]
        for i in range(0, users, BATCH):
            await conn.execute(text(
                "INSERT INTO users (id, tg_index, tg_id_enc, language, timezone, created_at, "
                "last_seen_at, consent_at, expiry_offsets, activity_mode, window_start, "
                "window_end, weekly_tips, broadcasts_opt_in) VALUES (:id, :ti, :tg, 'ru', "
                "'Asia/Almaty', :ca, :ls, :co, '30,14,7,3,1,0,-1', 'quarterly', 600, 1200, "
                "true, true)"), users_rows[i : i + BATCH])
        del users_rows
        # The (status, due_at) index is built after the load, as a bulk import would.
        await conn.exec_driver_sql("DROP INDEX ix_reminders_due")
        for start in range(1, keys + 1, BATCH):
            key_rows, rem_rows = [], []
            for k in range(start, min(start + BATCH, keys + 1)):
                uid = rng.randint(1, users)
                offset = rng.randint(-5, 399)
                active = NOW - timedelta(days=rng.randint(0, 80))
                key_rows.append({"id": k, "u": uid, "e": TODAY + timedelta(days=offset),
                                 "t": _ts(active, sqlite)})
                for p in stages[offset]:
                    if p.due_at.date() >= TODAY - timedelta(days=1):
                        rem_rows.append({"u": uid, "k": k, "kd": "expiry", "s": p.stage,
                                         "d": _ts(p.due_at, sqlite)})
                rem_rows.append({"u": uid, "k": k, "kd": "whereabouts", "s": 0,
                                 "d": _ts(plan_whereabouts(active), sqlite)})
            await conn.execute(text(
                "INSERT INTO keys (id, user_id, kind, holder, purpose, expires_on, label_enc, "
                "created_at, updated_at, last_activity_at, reminders_stopped, password_changed)"
                " VALUES (:id, :u, 'file', 'individual', 'personal', :e, '\\x00', :t, :t, :t, "
                "false, true)"), key_rows)
            await conn.execute(text(
                "INSERT INTO reminders (user_id, key_id, kind, stage, due_at, status) "
                "VALUES (:u, :k, :kd, :s, :d, 'pending')"), rem_rows)
        await conn.exec_driver_sql("CREATE INDEX ix_reminders_due ON reminders (status, due_at)")
        await conn.exec_driver_sql("ANALYZE")
    await engine.dispose()
    return time.perf_counter() - started


def _load_main(url: str, keys: int, users: int) -> None:
    asyncio.run(load(url, keys, users))


async def measure(url: str) -> dict[str, float | int]:
    engine = create_engine(url)
    pool = create_session_pool(engine)
    reminders = ReminderEngine(None, pool, None, None, lambda: NOW)  # type: ignore[arg-type]
    started = time.perf_counter()
    claimed = batches = 0
    async for claim in reminders.claimed_batches(NOW):
        batches += 1
        claimed += sum(len(rows) for rows in claim.by_user.values())
    scan = time.perf_counter() - started
    started = time.perf_counter()
    async with engine.connect() as conn:
        result = await conn.stream(text("SELECT expires_on FROM keys"))
        expiring = 0
        async for (expires_on,) in result:
            if isinstance(expires_on, str):
                expires_on = date.fromisoformat(expires_on)
            if (expires_on - TODAY).days in DEFAULT_OFFSETS:
                expiring += 1
    baseline = time.perf_counter() - started
    await engine.dispose()
    return {"scan_seconds": round(scan, 3), "claimed": claimed, "claim_batches": batches,
            "baseline_full_scan_seconds": round(baseline, 3), "baseline_due": expiring,
            "ratio": round(baseline / scan, 2) if scan else 0.0}


async def run(args: argparse.Namespace) -> dict[str, object]:
    if args.backend == "postgres":
        from tests.infra.postgres import PostgresServer

        server = PostgresServer()
        server.__enter__()
        url = server.create_database()
    else:
        tmp = tempfile.mkdtemp(prefix="kilt-bench-")
        url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
    try:
        await migrate(url)
        # Loading runs in a child process, so the peak RSS below is the scan's own.
        ctx = multiprocessing.get_context("spawn")
        child = ctx.Process(target=_load_main, args=(url, args.keys, args.users))
        started = time.perf_counter()
        child.start()
        await asyncio.to_thread(child.join)
        if child.exitcode != 0:
            raise SystemExit(f"loading failed with exit code {child.exitcode}")
        load_s = time.perf_counter() - started
        print(f"loaded {args.keys:,} keys of {args.users:,} users in {load_s:.1f} s")
        result = await measure(url)
    finally:
        if args.backend == "postgres":
            server.__exit__(None, None, None)
    print(f"claimed {result['claimed']:,} due reminders in {result['scan_seconds']} s "
          f"({result['claim_batches']} claim batches)")
    print(f"baseline: full scan of all keys in {result['baseline_full_scan_seconds']} s "
          f"(ratio {result['ratio']}x)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")
    return {"keys": args.keys, "users": args.users, "backend": args.backend,
            "peak_rss_mb": round(peak, 1), "load_seconds": round(load_s, 1), **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
