"""Load benchmark: the real bot under a realistic mix, over real HTTP, against a bare aiogram
echo bot on the same transport, the same updates and the same concurrency.

    python benchmarks/load.py [--users 1000] [--updates 3000] [--concurrency 50]
                              [--rate 300] [--transport http|null] [--profile]

HTTP (default): `python -m bot run` (a temporary SQLite database and data key) long-polls a
minimal fake Bot API served by this process (benchmarks/loadkit/transport.py). Set-up goes
through the bot: most of the 1,000 people send /start and press the consent button (so
their data is encrypted and written); then each gets 0–3 keys through the repositories.
The timed mix (benchmarks/loadkit/people.py): questions from the tuning and holdout sets,
/mykeys /help /reminders /faq, presses of buttons taken from the bot's own replies (menu,
FAQ, key cards, feedback), /addkey dialogs (most saved, some cancelled) and certificate
uploads. A reply's latency runs from getUpdates handing the update out to the bot's first
call for it. Phases: warm-up (not counted), closed loop (N in flight), open loop (fixed
arrival rate). The echo bot (benchmarks/loadkit/echo.py) runs alongside, polling the same
fake API with a token of its own, and gets the very same updates: the closed loop alternates
between the two bots in `--rounds` rounds, so that a drift of the machine's speed moves both.
`--transport null` runs both dispatchers in this process without HTTP; with `--profile` it
prints the top costs per update of the closed-loop phase (cProfile).

Both bot processes log at the default level (INFO) to files in the temporary directory; kilt's
line count (and any error) is printed. Both run with THROTTLE_PER_MINUTE raised: 1,000
simulated people send far more often than real ones, and this measures throughput, not the
throttle. The last line is one JSON object (CONTRACT.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import itertools
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.loadkit.flow import Adaptive, Flow, Pending, Replay, Source  # noqa: E402
from benchmarks.loadkit.people import People  # noqa: E402
from benchmarks.loadkit.transport import FakeBotApi  # noqa: E402

TOKEN = "4242:BENCH-token-for-a-fake-bot-api"
ECHO_TOKEN = "4343:BENCH-token-of-the-echo-bot"
KINDS = ("file", "id_card", "token", "cloud")
PURPOSES = ("auth", "sign_rsa", "both")


def certificates() -> list[bytes]:
    """A few NUC-shaped test certificates (tests/keys/certgen.py), valid for a year."""
    from tests.keys import certgen

    now = datetime.now(UTC)
    purposes: tuple[Literal["auth", "sign"], ...] = ("auth", "sign", "auth")
    return [certgen.der(certgen.make_cert(purpose=purpose, serial=1000 + n,
                                          not_before=now - timedelta(days=30),
                                          not_after=now + timedelta(days=335))[0])
            for n, purpose in enumerate(purposes)]


async def add_keys(url: str, data_key: bytes, people: People) -> int:
    """0–3 keys per consenting person, written as the bot writes them (encrypted, planned)."""
    from bot.reminders.hooks import on_key_saved
    from storage.database import create_engine, create_session_pool
    from storage.dto import KeyDraft
    from storage.encryption import FieldCipher
    from storage.repositories import Repos

    engine = create_engine(url)
    rng, now, added = random.Random(11), datetime.now(UTC), 0
    async with create_session_pool(engine)() as session:
        repos = Repos.build(session, FieldCipher(data_key))
        for p in people.all:
            user = await repos.users.get_by_tg(p.uid) if p.consented else None
            if user is None:
                continue
            for n in range(rng.choice((0, 1, 1, 2, 2, 3))):
                draft = KeyDraft(kind=rng.choice(KINDS), purpose=rng.choice(PURPOSES),
                                 expires_on=date.today() + timedelta(days=rng.randint(20, 700)),
                                 label=f"Кілт {n + 1}")
                key = await repos.keys.add(user.id, draft, now)
                await on_key_saved(repos, user, key, now, added=True)
                p.keys += 1
                added += 1
        await session.commit()
    await engine.dispose()
    return added


# --- statistics -----------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def phase_stats(flow: Flow, phase: str, seconds: float) -> dict[str, float]:
    done: list[Pending] = [p for p in flow.done if p.phase == phase]
    reply = [(p.answered - p.handed) * 1000 for p in done]
    arrival = [(p.answered - p.arrived) * 1000 for p in done]
    return {"updates": len(done), "seconds": round(seconds, 2),
            "updates_per_s": round(len(done) / seconds, 1) if seconds else 0.0,
            "p50_ms": round(statistics.median(reply), 1) if reply else 0.0,
            "p99_ms": round(pct(reply, 0.99), 1),
            "arrival_p50_ms": round(statistics.median(arrival), 1) if arrival else 0.0,
            "arrival_p99_ms": round(pct(arrival, 0.99), 1)}


def latency_by_kind(flow: Flow, phase: str) -> dict[str, list[float]]:
    """Reply p50 and p99 (ms) of each kind of update: where the tail comes from."""
    kinds: dict[str, list[float]] = {}
    for p in flow.done:
        if p.phase == phase and p.kind:
            kinds.setdefault(p.kind, []).append((p.answered - p.handed) * 1000)
    return {k: [round(statistics.median(v), 1), round(pct(v, 0.99), 1)]
            for k, v in sorted(kinds.items())}


# --- bot processes --------------------------------------------------------------------------


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def spawn(args: list[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    """A bot process whose log (stderr, at the default INFO level) goes to `log`."""
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(*args, cwd=ROOT, env=env, stderr=sink)


async def wait_first_poll(flow: Flow, proc: asyncio.subprocess.Process, started: float
                          ) -> float:
    while flow.first_poll is None:
        if proc.returncode is not None:
            raise SystemExit(f"the bot process exited with code {proc.returncode}")
        if time.monotonic() - started > 300:
            raise SystemExit("the bot did not poll within 300 s")
        await asyncio.sleep(0.01)
    return flow.first_poll - started


async def stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM (a graceful stop), SIGKILL after 20 s."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def interleaved(kilt: BotUnderTest, echo: BotUnderTest, people: People,
                      args: argparse.Namespace) -> dict[str, Any]:
    """Warm-up, closed loop and open loop of both bots. The closed loop runs in `rounds`
    alternating rounds, each bot getting the very updates the other got (the echo replays
    kilt's round): both bots are alive throughout, the idle one waits in its long poll, so
    when the machine's speed drifts (other processes, CPU frequency) it moves both bots'
    figures alike and the ratio stays the bots' own. The bots' CPU time per update in the
    closed loop is measured too: unlike updates/s, it hardly moves with other processes."""
    ids = itertools.count(10_000_000, 1_000_000)
    await kilt.flow.closed("warmup", Adaptive(people), args.warmup, args.concurrency)
    await echo.flow.closed("warmup", Replay(kilt.flow.sent["warmup"], next(ids)), args.warmup,
                           args.concurrency)
    seconds = {kilt.name: 0.0, echo.name: 0.0}
    cpu = {kilt.name: 0.0, echo.name: 0.0}

    async def closed_round(bot: BotUnderTest, source: Source, n: int) -> float:
        before = cpu_seconds(bot.pid)
        taken = await bot.flow.closed("closed", source, n, args.concurrency)
        cpu[bot.name] += cpu_seconds(bot.pid) - before
        seconds[bot.name] += taken
        return taken

    rounds: list[float] = []
    for n in split(args.updates, args.rounds):
        given = len(kilt.flow.sent["closed"])
        kilt_s = await closed_round(kilt, Adaptive(people), n)
        echo_s = await closed_round(echo, Replay(kilt.flow.sent["closed"][given:], next(ids)), n)
        rounds.append(round(echo_s / kilt_s, 3))
    out: dict[str, Any] = {"rounds": rounds}
    for bot in (kilt, echo):
        stats = phase_stats(bot.flow, "closed", seconds[bot.name])
        stats["cpu_ms_per_update"] = round(cpu[bot.name] * 1000 / max(1, stats["updates"]), 2)
        polls = bot.flow.polls["closed"]
        stats["updates_per_poll"] = round(sum(polls) / max(1, len(polls)), 2)
        out[bot.name] = {"closed": stats}
    out[kilt.name]["closed"]["by_kind"] = latency_by_kind(kilt.flow, "closed")
    opened = await kilt.flow.opened("open", Adaptive(people), args.open_updates, args.rate)
    out[kilt.name]["open"] = phase_stats(kilt.flow, "open", opened)
    opened = await echo.flow.opened("open", Replay(kilt.flow.sent["open"], next(ids)),
                                    args.open_updates, args.rate)
    out[echo.name]["open"] = phase_stats(echo.flow, "open", opened)
    return out


def calls_per_update(flow: Flow, phase: str) -> dict[str, float]:
    """Bot API calls per update of `phase`, by method, with their total under "all"."""
    updates = max(1, len(flow.sent[phase]))
    calls = {m: round(n / updates, 3) for m, n in flow.methods[phase].most_common()}
    return {"all": round(sum(flow.methods[phase].values()) / updates, 3), **calls}


def split(total: int, parts: int) -> list[int]:
    """`total` in `parts` near-equal whole parts."""
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


@dataclass
class BotUnderTest:
    """One bot process and the flow of updates between it and the fake Bot API."""

    name: str
    flow: Flow
    proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


async def run_http(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    data_key = os.urandom(32)
    url = f"sqlite+aiosqlite:///{tmp}/bot.sqlite3"
    people = People(args.users, args.consent, certificates())
    kilt, echo = BotUnderTest("kilt", Flow(people)), BotUnderTest("echo", Flow(people))
    api = FakeBotApi(kilt.flow)
    api.flows = {TOKEN: kilt.flow, ECHO_TOKEN: echo.flow}
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": await api.start(),
           "DATABASE_URL": url, "DATA_KEY": base64.b64encode(data_key).decode(),
           "DATA_DIR": str(tmp), "LOG_LEVEL": "INFO", "THROTTLE_PER_MINUTE": "1000000",
           "ADMIN_IDS": ""}
    out: dict[str, Any] = {}
    try:
        started = time.monotonic()
        kilt.proc = await spawn([sys.executable, "-m", "bot", "run"], env, tmp / "kilt.log")
        out["startup_s"] = await wait_first_poll(kilt.flow, kilt.proc, started)
        consenting = sum(p.will_consent for p in people.all)
        await kilt.flow.closed("setup", Adaptive(people, setup=True), 2 * consenting,
                               args.concurrency)
        out["keys"] = await add_keys(url, data_key, people)
        started = time.monotonic()
        echo.proc = await spawn([sys.executable, str(ROOT / "benchmarks/loadkit/echo.py")],
                                {**env, "BOT_TOKEN": ECHO_TOKEN}, tmp / "echo.log")
        out["baseline_startup_s"] = await wait_first_poll(echo.flow, echo.proc, started)
        measured = await interleaved(kilt, echo, people, args)
        out["kilt"], out["echo"], out["rounds"] = measured["kilt"], measured["echo"], \
            measured["rounds"]
        out["peak_rss_mb"] = peak_rss_mb(kilt.pid)
        out["baseline_peak_rss_mb"] = peak_rss_mb(echo.pid)
        out["lost"], out["mix"] = kilt.flow.lost, people.counts
        out["baseline_lost"] = echo.flow.lost
        out["calls"] = {bot.name: calls_per_update(bot.flow, "closed") for bot in (kilt, echo)}
    finally:
        for bot in (kilt, echo):
            if bot.proc is not None:
                await stop(bot.proc)
        await api.stop()
    log = (tmp / "kilt.log").read_text("utf-8", errors="replace").splitlines()
    out["log_lines"] = len(log)
    out["log_errors"] = [line[:300] for line in log if " ERROR " in line or "Traceback" in line][:5]
    return out


def compile_bytecode() -> None:
    """Our modules' bytecode, written before the bot processes start, as the Docker image's
    build does (compileall). With PYTHONDONTWRITEBYTECODE set, as on the shared benchmark
    machine, every start would compile our ~110 modules again (about 0.13 s of CPU, counted in
    the "ours" import time), which no deployment pays: the image ships the bytecode, and a
    plain `python -m bot run` writes it on its first start."""
    import compileall

    for folder in ("bot", "handlers", "storage"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)


def startup_breakdown(tmp: Path) -> dict[str, Any]:
    """Our start-up apart from importing aiogram, in fresh `-X importtime` child processes:
    a first start on an empty database (the schema is created from the models, without
    Alembic: storage/fresh_schema.py), then a restart on the same database (the schema is
    current). As in the Docker image, our bytecode (compile_bytecode) and the parsed texts
    (locales/__pycache__, written by the bot process run before) are there already."""
    steps = _breakdown_once(tmp)
    again = _breakdown_once(tmp)
    steps["restart"] = {k: again[k] for k in ("migrations", "ours_s", "ours_cpu_steps_s")}
    return steps


def _breakdown_once(tmp: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "benchmarks/loadkit/startup.py"),
         str(tmp)], cwd=ROOT, capture_output=True, text=True, check=True)
    steps: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    by_package: dict[str, float] = {}
    for line in done.stderr.splitlines():  # "import time: self | cumulative | name"
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        own, _, name = line[len("import time:"):].split("|")
        top = name.strip().split(".")[0]
        group = "ours" if top in ("bot", "handlers", "storage") else top
        by_package[group] = by_package.get(group, 0.0) + int(own) / 1e6
    heaviest = sorted(by_package.items(), key=lambda kv: -kv[1])[:6]
    steps["import_self_s"] = {k: round(v, 3) for k, v in heaviest}
    ours_steps = ("migrations", "qa_index", "translator", "dispatcher")
    steps["ours_s"] = round(by_package.get("ours", 0.0) + sum(steps[k] for k in ours_steps), 3)
    # The same on CPU time (import self times have no CPU twin: -X importtime is wall only).
    steps["ours_cpu_steps_s"] = round(sum(steps["cpu"][k] for k in ours_steps), 3)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--consent", type=float, default=0.9, help="share who consent")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--updates", type=int, default=2000, help="closed-loop updates")
    parser.add_argument("--concurrency", type=int, default=50, help="closed-loop in flight")
    parser.add_argument("--rounds", type=int, default=3,
                        help="closed-loop rounds, alternating between the two bots")
    parser.add_argument("--rate", type=float, default=300.0, help="open-loop updates/s")
    parser.add_argument("--open-updates", type=int, default=2000)
    parser.add_argument("--transport", choices=("http", "null"), default="http")
    parser.add_argument("--profile", action="store_true", help="null transport: cProfile")
    args = parser.parse_args()
    import bot.reminders.hooks  # noqa: F401  (what add_keys and certificates need, loaded
    import storage.repositories  # noqa: F401   before the collector freezes them with the
    import tests.keys.certgen  # noqa: F401     rest of this process's imports)

    gc.freeze()
    # SIGTERM unwinds like Ctrl-C: the bot processes are stopped and the temp dir removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="kilt-load-"))
    try:
        if args.transport == "null":
            from benchmarks.loadkit.inprocess import run_null

            result = asyncio.run(run_null(args, tmp))
        else:
            compile_bytecode()
            result = asyncio.run(run_http(args, tmp))
            result["startup_breakdown"] = startup_breakdown(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, result)


def report(args: argparse.Namespace, r: dict[str, Any]) -> None:
    kilt, echo = r["kilt"], r["echo"]
    kc, ec, ko, eo = kilt["closed"], echo["closed"], kilt["open"], echo["open"]
    ratio = kc["updates_per_s"] / ec["updates_per_s"] if ec["updates_per_s"] else 0.0
    print(f"mix of the closed loop: {r['mix'].get('closed')}; keys added in set-up "
          f"{r['keys']}; lost {r['lost']} (echo {r['baseline_lost']})")
    for name, k, e in (("closed loop", kc, ec), ("open loop", ko, eo)):
        print(f"{name}: kilt {k['updates_per_s']:,.0f} updates/s, reply p50 {k['p50_ms']} ms "
              f"p99 {k['p99_ms']} ms (arrival→reply p99 {k['arrival_p99_ms']} ms); echo "
              f"{e['updates_per_s']:,.0f}/s, p50 {e['p50_ms']} ms p99 {e['p99_ms']} ms")
    if kc.get("by_kind"):
        print(f"kilt reply [p50, p99] ms by kind (closed loop): {kc['by_kind']}; updates per "
              f"getUpdates: kilt {kc['updates_per_poll']}, echo {ec['updates_per_poll']}")
    print(f"ratio kilt/echo (closed loop, {args.concurrency} in flight): {ratio:.3f}"
          + (f"; by round {r['rounds']}" if r.get("rounds") else ""))
    if "cpu_ms_per_update" in kc:
        print(f"CPU per update (closed loop): kilt {kc['cpu_ms_per_update']} ms, echo "
              f"{ec['cpu_ms_per_update']} ms (echo/kilt "
              f"{ec['cpu_ms_per_update'] / max(kc['cpu_ms_per_update'], 1e-9):.3f})")
    if r.get("calls"):
        print(f"Bot API calls per update (closed loop): kilt {r['calls']['kilt']}, echo "
              f"{r['calls']['echo']}")
    print(f"peak RSS: kilt {r['peak_rss_mb']} MB, echo {r['baseline_peak_rss_mb']} MB")
    if "log_lines" in r:
        print(f"kilt's log (INFO, the default level): {r['log_lines']} lines in the whole run"
              + (f"; errors: {r['log_errors']}" if r["log_errors"] else ""))
    line = f"start-up to first getUpdates: kilt {r['startup_s']:.2f} s, echo " \
           f"{r['baseline_startup_s']:.2f} s"
    if "startup_breakdown" in r:
        b = r["startup_breakdown"]
        line += (f"; fresh process: aiogram import {b['import_aiogram']} s, other imports "
                 f"{b['import_rest']} s (self time by package {b['import_self_s']}), "
                 f"migrations {b['migrations']} s, Q&A index {b['qa_index']} s, "
                 f"texts {b['translator']} s, dispatcher {b['dispatcher']} s; ours "
                 f"{b['ours_s']} s (CPU time of these four steps {b['ours_cpu_steps_s']} s, "
                 f"by step {b['cpu']}); restart on the current schema: migrations "
                 f"{b['restart']['migrations']} s, ours {b['restart']['ours_s']} s (CPU "
                 f"{b['restart']['ours_cpu_steps_s']} s)")
    print(line)
    print(json.dumps({
        "updates_per_s": kc["updates_per_s"], "baseline_updates_per_s": ec["updates_per_s"],
        "ratio": round(ratio, 3), "ratio_by_round": r.get("rounds"),
        "p50_ms": kc["p50_ms"], "p99_ms": kc["p99_ms"],
        "peak_rss_mb": r["peak_rss_mb"], "startup_s": round(r["startup_s"], 2),
        "shape": "mixed", "baseline_p50_ms": ec["p50_ms"], "baseline_p99_ms": ec["p99_ms"],
        "baseline_peak_rss_mb": r["baseline_peak_rss_mb"],
        "baseline_startup_s": round(r["baseline_startup_s"], 2),
        "open_loop": {"rate": args.rate, **ko,
                      "baseline": {k: eo[k] for k in ("updates_per_s", "p50_ms", "p99_ms",
                                                      "arrival_p50_ms", "arrival_p99_ms")}},
        "startup_breakdown": r.get("startup_breakdown"), "transport": args.transport,
        "users": args.users, "concurrency": args.concurrency, "updates": args.updates,
        "lost": r["lost"], "mix": r["mix"].get("closed"),
        "cpu_ms_per_update": kc.get("cpu_ms_per_update"),
        "baseline_cpu_ms_per_update": ec.get("cpu_ms_per_update"),
        "calls_per_update": r.get("calls"), "latency_by_kind": kc.get("by_kind"),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
