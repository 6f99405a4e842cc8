"""The bot-wide send pacer: every message the bot sends waits here first.

Telegram counts a bot's messages together (about 30 a second overall, one a second per chat), so
reminders, broadcasts and tips must share ONE pacer per bot. `Pacer` is the interface the senders
use; `LocalPacer` keeps the state in this process. A Redis-backed pacer can implement the same
interface when several instances send for one bot.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

Sleep = Callable[[float], Awaitable[None]]
# allow_paid_broadcast lifts the broadcast limit (up to 1000 msg/s, paid in Stars per message).
PAID_RPS = 100.0


class Pacer(Protocol):
    """Send slots for one bot: a global rate, a per-chat interval and a bot-wide 429 pause."""

    async def acquire(self, chat_id: int, *, paid: bool = False) -> None:
        """Wait until one message may be sent to chat_id now (paid: allow_paid_broadcast)."""

    async def back_off(self, seconds: float) -> None:
        """Pause every sender for seconds: Telegram answered 429 and flood control is bot-wide."""

    def rate(self, *, paid: bool = False) -> float:
        """Messages per second the pacer allows in total (for ETAs and batch sizes)."""


class _Bucket:
    """GCRA form of a token bucket: `tat` is the theoretical time of the next conforming send."""

    def __init__(self, rps: float, burst: int) -> None:
        self.rps, self.period, self.burst = rps, 1.0 / rps, burst
        self.tat = -math.inf

    def reserve(self, now: float, paused_until: float) -> float:
        """Take the next slot at or after now (and after any pause); returns its time."""
        earliest = self.tat - (self.burst - 1) * self.period
        slot = max(now, earliest, paused_until)
        self.tat = max(self.tat, slot) + self.period
        return slot

    def empty_at(self, until: float) -> None:
        # Resume with an empty bucket, so the end of a pause is not a burst that trips it again.
        self.tat = until + (self.burst - 1) * self.period


class LocalPacer:
    """`Pacer` for one process: a global token bucket (a second one for paid broadcasts), a
    minimum interval per chat, and a pause after a 429 that holds every sender.

    acquire() reserves a future slot under a lock and sleeps outside it, so a chat that must wait
    for its own interval never holds up other chats. Clock and sleep are injectable for tests.
    """

    def __init__(
        self,
        global_rps: float = 25.0,
        per_chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        *,
        burst: int = 1,
        paid_rps: float = PAID_RPS,
    ) -> None:
        if global_rps <= 0 or paid_rps <= 0 or per_chat_interval < 0 or burst < 1:
            raise ValueError("need global_rps, paid_rps > 0, per_chat_interval >= 0, burst >= 1")
        self._free = _Bucket(global_rps, burst)
        self._paid = _Bucket(max(paid_rps, global_rps), burst)
        self._interval = per_chat_interval
        self._clock, self._sleep = clock, sleep
        self._lock = asyncio.Lock()
        self._paused_until = -math.inf
        # Bumped by back_off(); slots reserved in an older epoch are re-queued after the pause.
        self._epoch = 0
        # chat id -> earliest next send; insertion order is roughly time order, see _forget_idle.
        self._chat_ready: dict[int, float] = {}

    @property
    def paused_until(self) -> float:
        """Clock time before which nothing is sent (-inf when not paused)."""
        return self._paused_until

    @property
    def tracked_chats(self) -> int:
        """How many chats are still remembered for the per-chat interval."""
        return len(self._chat_ready)

    def rate(self, *, paid: bool = False) -> float:
        return (self._paid if paid else self._free).rps

    async def acquire(self, chat_id: int, *, paid: bool = False) -> None:
        bucket = self._paid if paid else self._free
        while True:
            async with self._lock:
                now, epoch = self._clock(), self._epoch
                self._forget_idle(now)
                prev = self._chat_ready.get(chat_id, -math.inf)
                if prev > now:
                    # Wait for the chat first without taking a global slot, so the slot
                    # is not wasted while this chat is still cooling down.
                    reserved, slot = False, prev
                else:
                    reserved, slot = True, bucket.reserve(now, self._paused_until)
                    self._chat_ready.pop(chat_id, None)
                    self._chat_ready[chat_id] = slot + self._interval
            if slot > now:
                await self._sleep(slot - now)
            if not reserved:
                continue
            if epoch == self._epoch:
                return
            # A 429 arrived while we slept: hand back the chat reservation and queue again.
            if self._chat_ready.get(chat_id) == slot + self._interval:
                if prev == -math.inf:
                    del self._chat_ready[chat_id]
                else:
                    self._chat_ready[chat_id] = prev

    async def back_off(self, seconds: float) -> None:
        if seconds <= 0:
            return
        until = self._clock() + seconds
        if until <= self._paused_until:
            return  # a shorter pause never shortens a longer one
        self._paused_until = until
        self._free.empty_at(until)
        self._paid.empty_at(until)
        self._epoch += 1

    def _forget_idle(self, now: float) -> None:
        """Drop chats whose interval has passed, so memory stays bounded by recent chats.

        Entries are re-inserted on every send, so the oldest sit at the front; stopping at the
        first live entry keeps this O(1) amortised.
        """
        while self._chat_ready:
            chat_id = next(iter(self._chat_ready))
            if self._chat_ready[chat_id] > now:
                break
            del self._chat_ready[chat_id]
