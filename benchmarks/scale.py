"""Scale benchmark: the same reminder + broadcast workload delivered by 1, then 3 instances.

    python benchmarks/scale.py [--deliveries 5000] [--instances 1,3] [--timeout 900]

Set-up (not timed), once per instance count, each on a fresh database of one throw-away
PostgreSQL server (tests/infra/postgres.py) with one throw-away Redis (tests/infra/redis.py):
N/2 consenting users (kk and ru, delivery window "any time", periodic reminders off so only
this workload is due) with one key each whose "7 days left" expiry reminder fell due in the
last hour (random times, so reminders do not reach each chat in the same order as the
broadcast), bulk-inserted at driver level with the fields encrypted as the repositories do;
and one broadcast to all users, created and started as BroadcastEngine._begin does after an
admin's "send now" (status running, one pending delivery per user). So N = N/2 reminder
messages + N/2 broadcast messages, each user getting one of each.

Then K real bots (`python -m bot run`, long polling) start at once, sharing the database and
Redis (so also one RedisPacer and its per-chat interval): each scans reminders at start-up
and every 5 s (REMINDER_SCAN_SECONDS) and resumes the running broadcast at start-up. They
talk to a fake Bot API in its own process (benchmarks/loadkit/counting_api.py) that has no
send limit and counts sendMessage per (chat, reminder|broadcast) and per instance (each gets
its own token of the same bot id); SEND_RPS is 1,000,000, so the global pacer never waits.
getUpdates returns nothing after its long-poll timeout, so polling by several instances is
fine here (Telegram itself would refuse a second poller with 409; production uses webhooks).
The run ends when the database says nothing is pending or claimed (or at --timeout).
Not the local Telegram of the e2e tests (../shared/tta): its shim keeps only the last 20,000
calls, so it cannot count a larger run exactly, and each message crosses two servers; measured
here on 2026-12-03 (2,000 sendMessage, 20 in flight, busy machine) it took 120–180 messages/s
against 520–570/s for the counting fake, CPU the bots need on two cores.

Measured: deliveries/s = messages counted by the fake API ÷ (last − first message), so the
instances' start-up is outside it; duplicates = messages to the same (chat, kind) beyond the
first; lost = expected (chat, kind) never delivered when the run ends. Each bot's CPU seconds
and the whole machine's busy share during the run are printed with the CPU count: three
processes on two cores cannot be three times faster, and on a machine others share too they
may not be faster at all. Why the default N is 5,000 and not the issue's 200,000: here
PostgreSQL, Redis, the fake API and the bots share 2 cores with other work: one instance
delivered 27–35 messages a second at load 8–9 and 119 at load 4–5 (2026-12-03, after the batch
reservations; 5.9 ms of bot CPU per delivery after start-up, 7.2 ms before), so 200,000 would
take 30 minutes to two hours per run; 5,000 took 3 minutes for both runs and the set-ups.
bot_cpu_delivering_s is the bots' CPU from the first second with a delivery on (start-up, 5–8 s
of CPU each, excluded); `--profile DIR` runs each bot under cProfile (wall-clock times).
`--deliveries` sets N.
The last line is one JSON object (CONTRACT.md).
The bots, the fake API, Redis and PostgreSQL are stopped and their temporary directories
removed when the benchmark ends, also on error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.loadkit.scale_seed import MARKER, Workload, seed  # noqa: E402

BOT_ID = 4242
ALMATY = ZoneInfo("Asia/Almaty")
# Child processes, stopped in main()'s finally (also on Ctrl-C and SIGTERM).
CHILDREN: list[subprocess.Popen[bytes]] = []


def spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=out)
    CHILDREN.append(proc)
    return proc


def stop(procs: list[subprocess.Popen[bytes]], grace: float = 25.0) -> None:
    """SIGTERM (a graceful stop: claims are handed back), SIGKILL after `grace` seconds."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc in CHILDREN:
            CHILDREN.remove(proc)


def cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


async def open_work(url: str) -> tuple[int, int]:
    """(reminders still pending, broadcast deliveries pending or claimed)."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        reminders = await conn.fetchval("SELECT count(*) FROM reminders WHERE status='pending'")
        deliveries = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'reserved', 'claimed')")
    finally:
        await conn.close()
    return int(reminders), int(deliveries)


async def statuses(url: str) -> dict[str, dict[str, int]]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        out = {}
        for table in ("reminders", "deliveries"):
            rows = await conn.fetch(f"SELECT status, count(*) FROM {table} GROUP BY status")
            out[table] = {str(r[0]): int(r[1]) for r in rows}
    finally:
        await conn.close()
    return out


async def api_call(api: str, method: str, path: str) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.request(method, api + path) as resp:
        return await resp.json(content_type=None)


def tally(stats: dict[str, Any], work: Workload) -> dict[str, int]:
    """Duplicates, lost and unexpected deliveries from the fake API's counts."""
    out = {"duplicates": 0, "lost": 0, "unexpected": 0}
    expected = {"r": set(work.reminder_chats()), "b": set(work.broadcast_chats())}
    for kind, wanted in expected.items():
        more = {int(c): n for c, n in stats["more"][kind].items()}
        got = set(stats["once"][kind]) | set(more)
        out["duplicates"] += sum(n - 1 for n in more.values())
        out["lost"] += len(wanted - got)
        out["unexpected"] += len(got - wanted)
    return out


async def run_once(k: int, args: argparse.Namespace, pg: Any, redis_url: str, api: str,
                   tmp: Path) -> dict[str, Any]:
    """Seed a fresh database, run k instances until nothing is open, count what arrived."""
    from redis.asyncio import Redis

    url = pg.create_database()
    data_key = os.urandom(32)
    work = Workload(users=args.deliveries // 2, reminder_users=args.deliveries // 2)
    started = time.monotonic()
    await seed(url, data_key, work, datetime.now(UTC), random.Random(k))
    print(f"[{k} instance(s)] seeded {work.users:,} users, {work.reminder_users:,} due "
          f"reminders and a broadcast to all in {time.monotonic() - started:.1f} s")
    client = Redis.from_url(redis_url)
    try:
        await client.flushdb()  # a fresh pacer and no dedup keys from the previous run
    finally:
        await client.aclose()
    await api_call(api, "POST", "/reset")
    env = {**os.environ, "TELEGRAM_API_URL": api, "DATABASE_URL": url,
           "DATA_KEY": base64.b64encode(data_key).decode(), "REDIS_URL": redis_url,
           "SEND_RPS": "1000000", "REMINDER_SCAN_SECONDS": "5", "LOG_LEVEL": args.log_level,
           "ADMIN_IDS": ""}
    bots = []
    for n in range(k):
        data_dir = tmp / f"bot{k}-{n}"
        data_dir.mkdir()
        # cProfile (wall-clock times: time spent waiting shows up too) until the bot stops.
        profile = (["-m", "cProfile", "-o", str(Path(args.profile) / f"bot{k}-{n}.prof")]
                   if args.profile else [])
        bots.append(spawn([sys.executable, *profile, "-m", "bot", "run"],
                          {**env, "BOT_TOKEN": f"{BOT_ID}:SCALE-bench-instance-{n}",
                           "DATA_DIR": str(data_dir)}, tmp / f"bot{k}-{n}.log"))
    busy0, total0 = cpu_busy()
    launched = time.monotonic()
    remaining = (-1, -1)
    cpu_at_first: list[float] | None = None  # the bots' CPU once start-up is over
    try:
        while time.monotonic() - launched < args.timeout:
            await asyncio.sleep(1.0)
            if cpu_at_first is None and (await api_call(api, "GET", "/stats"))["total"]:
                cpu_at_first = [cpu_seconds(p.pid) for p in bots]
            dead = [p for p in bots if p.poll() is not None]
            if dead:
                log = (tmp / f"bot{k}-{bots.index(dead[0])}.log").read_text(errors="replace")
                raise SystemExit(f"a bot exited with code {dead[0].returncode}:\n{log[-3000:]}")
            remaining = await open_work(url)
            if remaining == (0, 0):
                break
        wall = time.monotonic() - launched
        busy1, total1 = cpu_busy()
        bot_cpu = [round(cpu_seconds(p.pid), 1) for p in bots]
        # CPU spent delivering: from the first second with a delivery to the end (start-up
        # excluded; it includes up to a second of deliveries before the first sample).
        delivering = sum(bot_cpu) - sum(cpu_at_first or [0.0])
    finally:
        stop(bots)
    stats = await api_call(api, "GET", "/stats")
    counts = tally(stats, work)
    span = stats["last"] - stats["first"]
    result = {
        "instances": k, "delivered": stats["total"], "expected": work.expected,
        "seconds": round(span, 2), "wall_seconds": round(wall, 1),
        "deliveries_per_s": round(stats["total"] / span, 1) if span > 0 else 0.0,
        **counts, "open_at_end": {"reminders": remaining[0], "deliveries": remaining[1]},
        "per_instance": sorted(stats["by_token"].values(), reverse=True),
        "first_delivery_offsets_s": sorted(stats["first_by_token"].values()),
        "reminders_s": stats["span"].get("r"), "broadcast_s": stats["span"].get("b"),
        "machine_busy": round((busy1 - busy0) / max(total1 - total0, 1), 2),
        "bot_cpu_s": bot_cpu, "bot_cpu_delivering_s": round(delivering, 1),
        "cpu_ms_per_delivery": round(1000 * delivering / max(stats["total"], 1), 2),
        "db_status": await statuses(url),
    }
    pg.drop_database(url.rsplit("/", 1)[1])
    print(f"[{k} instance(s)] {result['delivered']:,} of {work.expected:,} delivered in "
          f"{result['seconds']} s: {result['deliveries_per_s']:,.0f} deliveries/s; per instance "
          f"{result['per_instance']}; duplicates {counts['duplicates']}, lost {counts['lost']}, "
          f"unexpected {counts['unexpected']}; machine busy {result['machine_busy']:.0%}, "
          f"bot CPU {bot_cpu} s, {result['cpu_ms_per_delivery']} ms per delivery after "
          f"start-up")
    return result


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from tests.infra.postgres import PostgresServer
    from tests.infra.redis import RedisServer

    with PostgresServer() as pg, RedisServer() as redis:
        api_proc = spawn([sys.executable, "-m", "benchmarks.loadkit.counting_api", MARKER],
                         dict(os.environ), tmp / "api.log")
        assert api_proc.stdout is not None
        api = (await asyncio.to_thread(api_proc.stdout.readline)).decode().strip()
        if not api.startswith("http"):
            raise SystemExit("the fake Bot API did not start: "
                             + (tmp / "api.log").read_text(errors="replace")[-2000:])
        try:
            return {f"run_{k}": await run_once(k, args, pg, redis.url, api, tmp)
                    for k in args.instances}
        finally:
            stop([api_proc], grace=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=5_000,
                        help="messages per run: half reminders, half one broadcast")
    parser.add_argument("--instances", default="1,3", help="instance counts to run, in order")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--log-level", default="WARNING", help="of the bots")
    parser.add_argument("--profile", metavar="DIR",
                        help="run each bot under cProfile, writing DIR/bot<K>-<n>.prof")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the temporary directory with the bots' logs")
    args = parser.parse_args()
    args.instances = [int(x) for x in args.instances.split(",")]
    # SIGTERM unwinds like Ctrl-C: the finally blocks stop every process and remove temp dirs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="kilt-scale-"))
    try:
        runs = asyncio.run(run(args, tmp))
    finally:
        stop(list(CHILDREN), grace=10)
        if args.keep_logs:
            print(f"logs kept in {tmp}")
        else:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)
    report(args, runs)


def report(args: argparse.Namespace, runs: dict[str, Any]) -> None:
    rates = {r["instances"]: r["deliveries_per_s"] for r in runs.values()}
    one, three = rates.get(1, 0.0), rates.get(3, 0.0)
    ratio = round(three / one, 2) if one and three else 0.0
    duplicates = sum(r["duplicates"] for r in runs.values())
    lost = sum(r["lost"] for r in runs.values())
    print(f"CPU count: {os.cpu_count()}; deliveries/s: {rates}; scaling ratio 3 vs 1: {ratio}; "
          f"duplicates {duplicates}; lost {lost}")
    print(json.dumps({
        "instances": list(rates), "deliveries_per_s": rates,
        "deliveries_per_s_1": one, "deliveries_per_s_3": three, "scaling_ratio": ratio,
        "duplicates": duplicates, "lost": lost, "deliveries": args.deliveries,
        "cpu_count": os.cpu_count(), "backend": "postgresql+redis", **runs,
    }))


if __name__ == "__main__":
    main()
