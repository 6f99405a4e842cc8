"""Reminder scan benchmark: compute and claim one day's due reminders among N keys.

    python benchmarks/reminder_scan.py [--keys 1000000] [--users 200000] [--backend sqlite]

Rows are bulk-loaded (7 expiry stages + 1 whereabouts per key, expiry dates spread over a
year), then the engine's own decide-and-claim path runs at 10:00 Almaty on one day, with the
engine's defaults (claims of up to 1000 users each). Baseline: the naive full scan of every
key computing days left in Python. The last line is one JSON object (see CONTRACT.md).

The load is not measured: driver-level executemany of tuples in one transaction, the keys and
reminders secondary indexes rebuilt after it, and on SQLite synchronous=OFF, an in-memory
journal and a large cache for the load connection only; the file is back in WAL mode (as the
bot runs it) and fsynced before the scan, so the scan's timing holds its own I/O only, not the
flush of a 1.7 GB load. It writes the same rows as the earlier per-dict loader did. On
PostgreSQL the load ends with VACUUM ANALYZE, as autovacuum would after it, so the visibility
map lets the scan's covering indexes answer without reading the table.

The measuring process freezes the garbage collector's view of its start-up objects, as
`python -m bot run` does (bot/__main__.py). The temporary database (SQLite file or PostgreSQL
cluster) is removed when the benchmark ends, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection  # noqa: E402

from bot.delivery import LocalPacer  # noqa: E402
from bot.reminders.engine import ReminderEngine  # noqa: E402
from bot.reminders.planning import DEFAULT_OFFSETS, plan_expiry, plan_whereabouts  # noqa: E402
from storage.database import create_engine, create_session_pool, migrate  # noqa: E402

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 5, 0, 30, tzinfo=UTC)  # 10:00:30 in Almaty
BATCH = 20_000


def _ts(moment: datetime, sqlite: bool) -> object:
    # Exactly the text SQLAlchemy stores on SQLite, so range and keyset comparisons match.
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment


def _insert_sql(head: str, width: int, sqlite: bool) -> str:
    marks = ", ".join("?" if sqlite else f"${n}" for n in range(1, width + 1))
    return f"{head} VALUES ({marks})"


async def _secondary_indexes(conn: AsyncConnection, sqlite: bool) -> list[str]:
    """CREATE statements of the keys/reminders indexes (not the unique ones), to rebuild them
    after the load: one sort per index instead of millions of random B-tree inserts."""
    if sqlite:
        sql = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
               "AND tbl_name IN ('keys', 'reminders')")
    else:
        sql = ("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('keys', "
               "'reminders') AND indexname LIKE 'ix\\_%'")
    rows = [(str(r[0]), str(r[1])) for r in (await conn.execute(text(sql))).all()]
    for name, _ in rows:
        await conn.exec_driver_sql(f"DROP INDEX {name}")
    return [create for _, create in rows]


async def load(url: str, keys: int, users: int) -> float:
    """Bulk load: driver-level executemany of tuples in one transaction, secondary indexes
    built afterwards; on SQLite no fsync and an in-memory journal (throw-away file)."""
    started = time.perf_counter()
    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    rng = random.Random(7)
    # Pre-rendered per expiry offset: the key's expiry date and its stages still ahead.
    stages = {
        d: [(p.stage, _ts(p.due_at, sqlite)) for p in plan_expiry(TODAY + timedelta(days=d))
            if p.due_at.date() >= TODAY - timedelta(days=1)]
        for d in range(-5, 400)
    }
    expiry = {d: (TODAY + timedelta(days=d)).isoformat() if sqlite else TODAY + timedelta(days=d)
              for d in range(-5, 400)}
    activity = {a: (_ts(NOW - timedelta(days=a), sqlite),
                    _ts(plan_whereabouts(NOW - timedelta(days=a)), sqlite)) for a in range(81)}
    created = _ts(NOW - timedelta(days=30), sqlite)
    async with engine.begin() as conn:
        if sqlite:
            for pragma in ("synchronous=OFF", "journal_mode=MEMORY", "cache_size=-1000000"):
                await conn.exec_driver_sql(f"PRAGMA {pragma}")
        rebuild = await _secondary_indexes(conn, sqlite)
        user_sql = _insert_sql(
            "INSERT INTO users (id, tg_index, tg_id_enc, language, timezone, created_at, "
            "last_seen_at, consent_at, expiry_offsets, activity_mode, window_start, "
            "window_end, weekly_tips, broadcasts_opt_in)", 14, sqlite)
        for start in range(1, users + 1, BATCH):
            await conn.exec_driver_sql(user_sql, [
                (u, f"u{u}", b"x", "ru", "Asia/Almaty", created, created, created,
                 "30,14,7,3,1,0,-1", "quarterly", 600, 1200, True, True)
                for u in range(start, min(start + BATCH, users + 1))
            ])
        key_sql = _insert_sql(
            "INSERT INTO keys (id, user_id, kind, holder, purpose, expires_on, label_enc, "
            "created_at, updated_at, last_activity_at, reminders_stopped, password_changed)",
            12, sqlite)
        rem_sql = _insert_sql(
            "INSERT INTO reminders (user_id, key_id, kind, stage, due_at, status)", 6, sqlite)
        for start in range(1, keys + 1, BATCH):
            key_rows, rem_rows = [], []
            for k in range(start, min(start + BATCH, keys + 1)):
                uid = rng.randint(1, users)
                offset = rng.randint(-5, 399)
                active, whereabouts = activity[rng.randint(0, 80)]
                key_rows.append((k, uid, "file", "individual", "personal", expiry[offset],
                                 b"\x00", active, active, active, False, True))
                for stage, due in stages[offset]:
                    rem_rows.append((uid, k, "expiry", stage, due, "pending"))
                rem_rows.append((uid, k, "whereabouts", 0, whereabouts, "pending"))
            await conn.exec_driver_sql(key_sql, key_rows)
            await conn.exec_driver_sql(rem_sql, rem_rows)
        for create in rebuild:
            await conn.exec_driver_sql(create)
        await conn.exec_driver_sql("ANALYZE")
    async with engine.connect() as conn:
        if sqlite:  # back to the WAL mode the bot runs in
            await conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        else:
            await _vacuum(conn)
    await engine.dispose()
    return time.perf_counter() - started


async def _vacuum(conn: AsyncConnection) -> None:
    """What autovacuum does after a bulk insert: hint bits and the visibility map, without
    which an index-only scan still reads the table. A snapshot another backend (autovacuum
    itself) holds may keep pages from being marked all-visible: then wait and vacuum again."""
    await conn.execution_options(isolation_level="AUTOCOMMIT")
    share = 0.0
    for _ in range(30):
        await conn.exec_driver_sql("VACUUM ANALYZE")
        visible, pages = [int(n) for n in (await conn.exec_driver_sql(
            "SELECT relallvisible, relpages FROM pg_class WHERE relname = 'reminders'")).one()]
        share = visible / max(pages, 1)
        if share > 0.99:
            return
        await asyncio.sleep(1)
    print(f"warning: only {share:.0%} of the reminders pages are all-visible after VACUUM")


def _load_main(url: str, keys: int, users: int) -> None:
    asyncio.run(load(url, keys, users))
    if url.startswith("sqlite"):
        # On disk before the scan starts, so its first fsync does not flush the whole load.
        with open(str(make_url(url).database), "rb+") as db:
            os.fsync(db.fileno())


async def measure(url: str) -> dict[str, float | int]:
    engine = create_engine(url)
    pool = create_session_pool(engine)
    # Only claimed_batches runs here: no bot, cipher, translator; the pacer is never asked.
    reminders = ReminderEngine(None, pool, None, None, lambda: NOW, LocalPacer())  # type: ignore[arg-type]
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
    else:
        tmp = tempfile.mkdtemp(prefix="kilt-bench-")
    child = None
    try:
        if args.backend == "postgres":
            url = server.create_database()
        else:
            url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
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
        if child is not None and child.is_alive():  # interrupted mid-load
            child.terminate()
            child.join()
        if args.backend == "postgres":
            server.__exit__(None, None, None)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
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
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the finally blocks remove the temporary database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    gc.freeze()  # as the bot does after its imports
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
