"""Send pacing shared by the broadcast and reminder senders, kept under Telegram's flood limits."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable


class Pacer:
    """Global token bucket plus a minimum interval per chat, with a bot-wide pause after a 429.

    Each acquire() reserves a future send slot under one lock and then sleeps outside it, so a
    chat that must wait for its own interval never holds up other chats.
    """

    def __init__(
        self,
        global_rps: float = 25.0,
        per_chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        *,
        burst: int = 1,
    ) -> None:
        if global_rps <= 0 or per_chat_interval < 0 or burst < 1:
            raise ValueError("need global_rps > 0, per_chat_interval >= 0 and burst >= 1")
        self._period = 1.0 / global_rps
        self._interval = per_chat_interval
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        # GCRA form of the token bucket: the theoretical time of the next conforming send.
        self._tat = -math.inf
        self._paused_until = -math.inf
        # Bumped by penalize(); slots reserved in an older epoch are re-queued after the pause.
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

    async def acquire(self, chat_id: int) -> None:
        """Wait until one message may be sent to chat_id now."""
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
                    reserved, slot = True, self._reserve(now)
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

    def penalize(self, seconds: float) -> None:
        """Pause all sending for seconds (Telegram's retry_after; flood control is bot-wide)."""
        if seconds <= 0:
            return
        until = self._clock() + seconds
        if until <= self._paused_until:
            return
        self._paused_until = until
        # Resume with an empty bucket so the restart is not a burst that trips the limit again.
        self._tat = until + (self._burst - 1) * self._period
        self._epoch += 1

    def _reserve(self, now: float) -> float:
        """Take the next global slot at or after now and return its time."""
        earliest = self._tat - (self._burst - 1) * self._period
        slot = max(now, earliest, self._paused_until)
        self._tat = max(self._tat, slot) + self._period
        return slot

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
