"""The update queue between the simulated people and a bot, and the timing of each reply.

An update is *handed out* when getUpdates returns it (or the in-process pump takes it) and
*answered* at the bot's first call for it: answerCallbackQuery with its id, or any method
for its chat. Closed loop: at most N updates in flight. Open loop: a fixed arrival rate,
whatever the bot's speed; then the time from arrival to reply also shows the backlog.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from typing import Any, Protocol

from benchmarks.loadkit.people import People

LOST_AFTER = 120.0  # seconds without a reply: counted as lost, the slot is freed
QUIET = 0.25  # a person acts again only after the bot has been quiet in the chat this long


@dataclass
class Pending:
    update_id: int
    chat: int
    callback: str | None
    phase: str
    arrived: float
    handed: float = 0.0
    answered: float = 0.0
    lost: bool = False
    kind: str = ""


class Source(Protocol):
    async def next(self, flow: Flow) -> tuple[int, dict[str, Any]]: ...


class Flow:
    def __init__(self, people: People) -> None:
        self.people = people
        self.queue: deque[tuple[Pending, dict[str, Any]]] = deque()
        self.ready = asyncio.Event()
        self.waiting: dict[int, deque[Pending]] = defaultdict(deque)
        self.by_callback: dict[str, Pending] = {}
        self.done: list[Pending] = []
        self.open: set[int] = set()  # update ids not answered yet
        self.idle = asyncio.Event()  # set when nothing is open
        self.slots: asyncio.Semaphore | None = None
        self.phase = "idle"
        self.sent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.first_poll: float | None = None
        self.methods: dict[str, Counter[str]] = defaultdict(Counter)  # phase -> method -> calls
        self.lost = 0
        self.polls: dict[str, list[int]] = defaultdict(list)  # phase -> updates per getUpdates

    # --- transport side -----------------------------------------------------------------

    def take(self, limit: int) -> list[dict[str, Any]]:
        if self.first_poll is None:
            self.first_poll = time.monotonic()
        now, out = time.monotonic(), list[dict[str, Any]]()
        while self.queue and len(out) < limit:
            pending, update = self.queue.popleft()
            pending.handed = now
            out.append(update)
        if not self.queue:
            self.ready.clear()
        if limit:
            self.polls[self.phase].append(len(out))
        return out

    def reply(self, method: str, params: dict[str, Any]) -> Any:
        now = time.monotonic()
        self.methods[self.phase][method] += 1
        pending = None
        if params.get("callback_query_id") is not None:
            pending = self.by_callback.get(str(params["callback_query_id"]))
        elif params.get("chat_id") is not None and str(params["chat_id"]).lstrip("-").isdigit():
            fifo = self.waiting.get(int(params["chat_id"]))
            while fifo and fifo[0].answered:
                fifo.popleft()
            pending = fifo[0] if fifo else None
        if pending is not None and not pending.answered and pending.handed:
            self._close(pending, now)
        return self.people.on_call(method, params, now)

    # --- bookkeeping --------------------------------------------------------------------

    def put(self, chat: int, update: dict[str, Any], arrived: float) -> None:
        query = update.get("callback_query")
        pending = Pending(update["update_id"], chat, query["id"] if query else None, self.phase,
                          arrived, kind=self.people.last_kind)
        self.queue.append((pending, update))
        self.waiting[chat].append(pending)
        self.open.add(pending.update_id)
        self.idle.clear()
        if pending.callback:
            self.by_callback[pending.callback] = pending
        self.sent[self.phase].append(update)
        self.ready.set()

    def _close(self, pending: Pending, now: float, lost: bool = False) -> None:
        pending.answered, pending.lost = now, lost
        self.open.discard(pending.update_id)
        if not self.open:
            self.idle.set()
        if pending.callback:
            self.by_callback.pop(pending.callback, None)
        person = self.people.by_uid.get(pending.chat)
        if person is not None:
            person.busy = False
        if not lost:
            self.done.append(pending)
        if self.slots is not None:
            self.slots.release()
        self.busy(pending.chat)  # drop answered updates from the front of the chat's queue

    def busy(self, chat: int) -> bool:
        fifo = self.waiting.get(chat)
        while fifo and fifo[0].answered:
            fifo.popleft()
        return bool(fifo)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            stuck = [p for fifo in self.waiting.values() for p in fifo
                     if not p.answered and p.handed and now - p.handed > LOST_AFTER]
            for p in stuck:
                self._close(p, now, lost=True)
                self.lost += 1

    async def _drain(self) -> None:
        if self.open:
            await self.idle.wait()

    # --- drivers ------------------------------------------------------------------------

    async def closed(self, phase: str, source: Source, count: int, concurrency: int) -> float:
        """`count` updates, at most `concurrency` in flight; returns the wall time."""
        self.phase, self.slots = phase, asyncio.Semaphore(concurrency)
        self.people.phase = phase
        reaper = asyncio.create_task(self._reap())
        started = time.monotonic()
        try:
            for _ in range(count):
                await self.slots.acquire()
                chat, update = await source.next(self)
                self.put(chat, update, time.monotonic())
            await self._drain()
        finally:
            reaper.cancel()
            self.slots = None
        return time.monotonic() - started

    async def opened(self, phase: str, source: Source, count: int, rate: float) -> float:
        """`count` updates arriving at `rate` per second, however fast the bot answers."""
        self.phase = self.people.phase = phase
        reaper = asyncio.create_task(self._reap())
        started = time.monotonic()
        try:
            for k in range(count):
                due = started + k / rate
                if due > time.monotonic():
                    await asyncio.sleep(due - time.monotonic())
                chat, update = await source.next(self)
                self.put(chat, update, due)
            await self._drain()
        finally:
            reaper.cancel()
        return time.monotonic() - started


class Adaptive:
    """A random idle person acts next (optionally only people who still need set-up)."""

    def __init__(self, people: People, setup: bool = False) -> None:
        self.people, self.setup = people, setup

    async def next(self, flow: Flow) -> tuple[int, dict[str, Any]]:
        rng = self.people.rng
        pool = [p for p in self.people.all if p.will_consent and not p.consented] \
            if self.setup else self.people.all
        while True:
            now = time.monotonic()
            for _ in range(50):
                p = rng.choice(pool)
                if not p.busy and now - p.last_call > QUIET and \
                        (not self.setup or not p.consented):
                    return p.uid, self.people.next_update(p, now)
            await asyncio.sleep(0.005)


class Replay:
    """The very updates another run sent, in order, one in flight per chat (fresh ids)."""

    def __init__(self, updates: list[dict[str, Any]], first_id: int) -> None:
        self.rest = deque(updates)
        self.ids = itertools.count(first_id)

    async def next(self, flow: Flow) -> tuple[int, dict[str, Any]]:
        while True:
            for i, update in enumerate(itertools.islice(self.rest, 200)):
                body = update.get("message") or update["callback_query"]["message"]
                chat = int(body["chat"]["id"])
                if not flow.busy(chat):
                    del self.rest[i]
                    fresh = copy.deepcopy(update)
                    fresh["update_id"] = next(self.ids)
                    return chat, fresh
            await asyncio.sleep(0.002)
