"""Several real bot instances in webhook mode behind a test "Telegram + load balancer".

`BotCluster` starts N `python -m bot run --webhook` processes (`BotProcess`) on free loopback
ports with one environment (the same DATABASE_URL, REDIS_URL, DATA_KEY, BOT_TOKEN), waits until
each answers `/healthz`, and can kill one (`kill(i)`, SIGKILL by default). The shim does not
deliver webhooks, so `WebhookPusher` plays Telegram's webhook sender and the load balancer: it
long-polls the shim's bot-side `getUpdates` with the bot token and POSTs each update, with the
`X-Telegram-Bot-Api-Secret-Token` header, to one instance (`route`); `duplicate` picks updates
that are also POSTed to a different instance, at the same time or right after the answer
(Telegram's re-sending of an update whose answer it did not see). Like Telegram, it sends one
chat's updates one at a time, each after the previous one was answered, and different chats side
by side; an instance that does not answer (killed) is skipped for the next one.

    cluster = BotCluster(env, tmp_path, n=3)
    with cluster:                               # started, healthy, emulator webhook detached
        async with WebhookPusher(cluster, tta.base_url) as pusher:
            await tg.send_command(42, "/start")  # delivered to one of the instances
            await pusher.wait_idle()
        cluster.kill(0)
        cluster.metric_sum("kilt_updates_duplicate_total")

Reused by tests/e2e/test_cluster_e2e.py; a benchmark can use it the same way.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from tests.infra.service import Service, free_port
from tests.infra.tta import BotProcess

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Route = Callable[[dict[str, Any], int], int]  # (update, its number within the chat) -> instance
Duplicate = Callable[[dict[str, Any], int], bool]  # (update, its number overall) -> copy it?


class ClusterError(RuntimeError):
    """An instance did not come up (its log tail is in the message)."""


def _get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


@dataclass
class Instance:
    index: int
    port: int
    proc: BotProcess

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhook"


class BotCluster(Service):
    """N webhook-mode bot processes sharing `env`; `workdir/bot<i>` is each one's cwd and log."""

    def __init__(
        self,
        env: Mapping[str, str],
        workdir: Path,
        *,
        n: int = 3,
        secret: str | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        self.env = dict(env)
        self.workdir = Path(workdir)
        self.secret = secret or secrets.token_hex(16)
        self.startup_timeout = startup_timeout
        self.token = self.env["BOT_TOKEN"]
        self.api_url = self.env["TELEGRAM_API_URL"].rstrip("/")
        self.instances: list[Instance] = []
        self.startup_seconds = 0.0
        self._last_metrics: dict[int, str] = {}
        for i in range(n):
            port = free_port()
            cwd = self.workdir / f"bot{i}"
            cwd.mkdir(parents=True, exist_ok=True)
            proc = BotProcess(
                {
                    **self.env,
                    "WEBHOOK_HOST": "127.0.0.1",
                    "WEBHOOK_PORT": str(port),
                    "WEBHOOK_URL": f"http://127.0.0.1:{port}",
                    "WEBHOOK_SECRET": self.secret,
                },
                cwd=cwd,
                log_path=cwd / "bot.log",
                args=[sys.executable, "-m", "bot", "run", "--webhook"],
            )
            self.instances.append(Instance(i, port, proc))

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        started = time.monotonic()
        for inst in self.instances:
            inst.proc.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def wait_ready(self) -> None:
        """Every running instance answers /healthz with 200 and has registered its webhook;
        then the emulator's own webhook is removed (it would POST updates itself, without the
        secret header, and keep them from getUpdates, where the pusher reads them)."""
        deadline = time.monotonic() + self.startup_timeout
        waiting = {i.index for i in self.instances if i.proc.running}
        while waiting:
            for idx in sorted(waiting):
                inst = self.instances[idx]
                if not inst.proc.running:
                    raise ClusterError(f"bot{idx} exited:\n{inst.proc.log_text()[-3000:]}")
                try:
                    status, _ = _get(f"{inst.base_url}/healthz", timeout=1.0)
                except OSError:
                    continue
                if status == 200 and inst.webhook_url in self._registered_webhooks():
                    waiting.discard(idx)
            if waiting and time.monotonic() > deadline:
                tails = "\n".join(
                    f"--- bot{i}\n{self.instances[i].proc.log_text()[-2000:]}" for i in waiting
                )
                raise ClusterError(f"not ready in {self.startup_timeout}s: {waiting}\n{tails}")
            if waiting:
                time.sleep(0.1)
        self._api("deleteWebhook")

    def _registered_webhooks(self) -> set[str]:
        query = urllib.parse.urlencode({"method": "setWebhook"})
        _, body = _get(f"{self.api_url}/_shim/calls?{query}")
        return {
            str((c.get("params") or {}).get("url"))
            for c in json.loads(body).get("result", [])
            if c.get("status") == 200
        }

    def _api(self, method: str) -> Any:
        req = urllib.request.Request(f"{self.api_url}/bot{self.token}/{method}", data=b"{}",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        """SIGTERM to all at once (each drains in parallel), then wait for each."""
        for inst in self.instances:
            inst.proc.kill(signal.SIGTERM, wait=False)
        for inst in self.instances:
            inst.proc.stop()

    def kill(self, index: int, sig: int = signal.SIGKILL) -> int | None:
        """Kill one instance (kill -9 by default: no shutdown hooks, claims left behind). Its
        metrics as last read stay available to metric_sum."""
        try:
            self._last_metrics[index] = self.metrics_text(index)
        except OSError:
            pass
        return self.instances[index].proc.kill(sig)

    @property
    def alive(self) -> list[int]:
        return [i.index for i in self.instances if i.proc.running]

    # ------------------------------------------------------------------ observation
    def metrics_text(self, index: int) -> str:
        status, body = _get(f"{self.instances[index].base_url}/metrics")
        if status != 200:
            raise OSError(f"bot{index} /metrics answered {status}")
        return body

    def metric(self, index: int, name: str) -> float:
        """Sum of every sample of `name` (all label sets) on one instance; a killed one reports
        what it showed when it was killed."""
        text = (
            self.metrics_text(index)
            if self.instances[index].proc.running
            else self._last_metrics.get(index, "")
        )
        pattern = re.compile(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", re.M)
        return sum(float(v) for v in pattern.findall(text))

    def metric_sum(self, name: str) -> float:
        return sum(self.metric(i.index, name) for i in self.instances)

    def logs(self, chars: int = 3000) -> str:
        return "\n".join(
            f"--- bot{i.index}\n{i.proc.log_text()[-chars:]}" for i in self.instances
        )


# ---------------------------------------------------------------------------------------- pusher
def chat_of(update: Mapping[str, Any]) -> int:
    """The chat (for a callback: the user) whose updates Telegram delivers in order."""
    for key in ("message", "edited_message", "channel_post"):
        if isinstance(update.get(key), dict):
            return int(update[key]["chat"]["id"])
    for key in ("callback_query", "my_chat_member", "inline_query"):
        if isinstance(update.get(key), dict):
            return int(update[key]["from"]["id"])
    return 0


def alternate(update: dict[str, Any], nth_in_chat: int, n: int = 3) -> int:
    """Default route: a chat's consecutive updates go to consecutive instances."""
    return (nth_in_chat + chat_of(update)) % n


@dataclass
class Delivery:
    update_id: int
    instance: int
    status: int  # HTTP status, 0 = no answer (connection refused, reset)
    copy: bool  # the duplicate delivery of an update
    at: float


@dataclass
class PusherStats:
    updates: int = 0
    copies: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    updates_of: dict[int, list[int]] = field(default_factory=dict)  # chat -> its update ids

    def by_instance(self) -> Counter[int]:
        return Counter(d.instance for d in self.deliveries if d.status == 200)


class WebhookPusher:
    """Telegram's webhook sender for the cluster's token (see the module docstring)."""

    def __init__(
        self,
        cluster: BotCluster,
        *,
        route: Route | None = None,
        duplicate: Duplicate | None = None,
        poll_timeout: float = 1.0,
    ) -> None:
        self.cluster = cluster
        n = len(cluster.instances)
        self.route: Route = route or (lambda u, k: alternate(u, k, n))
        self.duplicate: Duplicate = duplicate or (lambda u, k: False)
        self.poll_timeout = poll_timeout
        self.stats = PusherStats()
        self._offset = 0
        self._chats: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self._senders: dict[int, asyncio.Task[None]] = {}
        self._nth: Counter[int] = Counter()
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._poller: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WebhookPusher:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        self._poller = asyncio.create_task(self._poll())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tasks = [t for t in (self._poller, *self._senders.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    async def _poll(self) -> None:
        assert self._http is not None
        url = f"{self.cluster.api_url}/bot{self.cluster.token}/getUpdates"
        while True:
            body = {"offset": self._offset, "timeout": self.poll_timeout}
            async with self._http.post(url, json=body) as resp:
                updates = (await resp.json()).get("result") or []
            for update in updates:
                self._offset = max(self._offset, int(update["update_id"]) + 1)
                self._pending += 1
                self._idle.clear()
                chat = chat_of(update)
                if chat not in self._chats:
                    self._chats[chat] = asyncio.Queue()
                    self._senders[chat] = asyncio.create_task(self._send_chat(chat))
                await self._chats[chat].put(update)

    async def _send_chat(self, chat: int) -> None:
        queue = self._chats[chat]
        while True:
            update = await queue.get()
            nth = self._nth[chat]
            self._nth[chat] += 1
            count = self.stats.updates
            self.stats.updates += 1
            self.stats.updates_of.setdefault(chat, []).append(int(update["update_id"]))
            target = self.route(update, nth) % len(self.cluster.instances)
            if self.duplicate(update, count):
                # Half the copies race the original, half come after its answer (Telegram
                # re-sending an update whose answer it did not get in time).
                self.stats.copies += 1
                copy = self._deliver(update, target + 1, copy=True)
                if count % 2:
                    await asyncio.gather(self._deliver(update, target, copy=False), copy)
                else:
                    await self._deliver(update, target, copy=False)
                    await copy
            else:
                await self._deliver(update, target, copy=False)
            # only now (answered) the chat's next update is sent
            self._pending -= 1
            if self._pending == 0:
                self._idle.set()

    async def _deliver(self, update: dict[str, Any], first: int, *, copy: bool) -> None:
        """POST to instance `first`, or the next ones when it does not answer (killed)."""
        assert self._http is not None
        n = len(self.cluster.instances)
        for step in range(n):
            inst = self.cluster.instances[(first + step) % n]
            status = 0
            try:
                async with self._http.post(
                    inst.webhook_url, json=update, headers={SECRET_HEADER: self.cluster.secret}
                ) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, OSError):
                status = 0
            self.stats.deliveries.append(
                Delivery(int(update["update_id"]), inst.index, status, copy, time.time())
            )
            if status == 200:
                return
        raise ClusterError(f"no instance accepted update {update['update_id']}")

    async def wait_idle(self, timeout: float = 30.0, quiet: float = 0.3) -> None:  # noqa: ASYNC109
        """Until every update fetched so far was answered and none came for `quiet` s."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self._pending} update(s) still being delivered")
            await asyncio.wait_for(self._idle.wait(), remaining)
            seen = self.stats.updates
            await asyncio.sleep(quiet)
            if self._idle.is_set() and self.stats.updates == seen:
                return
