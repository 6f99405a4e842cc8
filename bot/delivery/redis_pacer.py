"""`Pacer` shared by every instance of one bot through Redis (used when REDIS_URL is set).

Telegram limits the bot, not the process: ~30 messages a second in total, one a second per chat,
and a 429 means every sender must pause. So the state `LocalPacer` keeps in memory lives in Redis
here, changed only by Lua scripts (atomic: no two instances can take the same slot):

- `<prefix>:pacer:tat` / `:tat:paid` — the GCRA "theoretical arrival time" of the global bucket
  (and of the paid-broadcast lane), the same algorithm as `LocalPacer`'s `_Bucket`;
- `<prefix>:pacer:chat:<id>` — the earliest next send to that chat (expires with it);
- `<prefix>:pacer:paused` — the end of a bot-wide 429 pause (expires with it).

Time is Redis's own clock (`TIME` inside the script), so instances on machines whose clocks
differ still agree on the slots; tests inject a clock instead. A slot is reserved under the
script and slept on outside it; after sleeping, a pause set meanwhile by any instance sends the
caller back to the queue (the same rule as `LocalPacer`'s epoch).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.delivery.pacer import PAID_RPS, Sleep

if TYPE_CHECKING:
    from redis.asyncio import Redis

# Keys outlive the time they encode by this much (real seconds), so a key never vanishes while
# an instance still relies on it; past that they are only garbage.
_MARGIN_MS = 10_000

# Shared by the scripts: `now` is ARGV[1], or Redis's clock when it is empty.
_NOW = """
local now = tonumber(ARGV[1])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function fmt(x) return string.format('%.6f', x) end
local function ttl(x) return math.max(1, math.ceil((x - now) * 1000)) + MARGIN end
"""

# KEYS: bucket tat, chat ready, paused until. ARGV: now, period, burst, chat interval.
# Returns {reserved, now, slot, chat value written, previous chat value}.
_ACQUIRE = _NOW + """
local period, burst, interval = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local prev = redis.call('GET', KEYS[2])
if prev and tonumber(prev) > now then
  return {0, fmt(now), prev, '', ''}
end
local slot = now
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat then slot = math.max(slot, tat - (burst - 1) * period) else tat = now end
local paused = tonumber(redis.call('GET', KEYS[3]))
if paused and paused > slot then slot = paused end
tat = math.max(tat, slot) + period
redis.call('SET', KEYS[1], fmt(tat), 'PX', ttl(tat))
local ready = ''
if interval > 0 then
  ready = fmt(slot + interval)
  redis.call('SET', KEYS[2], ready, 'PX', ttl(slot + interval))
end
return {1, fmt(now), fmt(slot), ready, prev or ''}
"""

# After sleeping until a slot: was a pause set meanwhile that covers it? Then hand the chat
# reservation back (if nobody replaced it) and queue again. KEYS: paused, chat ready.
# ARGV: now (unused), slot, chat value written, previous chat value. Returns 1 = go ahead.
_CONFIRM = _NOW + """
local paused = tonumber(redis.call('GET', KEYS[1]))
if not paused or paused <= tonumber(ARGV[2]) then return 1 end
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then
  if ARGV[4] == '' then redis.call('DEL', KEYS[2])
  else redis.call('SET', KEYS[2], ARGV[4], 'PX', ttl(tonumber(ARGV[4]))) end
end
return 0
"""

# KEYS: paused, free tat, paid tat. ARGV: now, seconds, free period, paid period, burst.
# A shorter pause never shortens a longer one; both buckets resume empty after it.
_BACK_OFF = _NOW + """
local untl = now + tonumber(ARGV[2])
local paused = tonumber(redis.call('GET', KEYS[1]))
if paused and paused >= untl then return 0 end
redis.call('SET', KEYS[1], fmt(untl), 'PX', ttl(untl))
local burst = tonumber(ARGV[5])
for i, period in ipairs({tonumber(ARGV[3]), tonumber(ARGV[4])}) do
  local tat = math.max(tonumber(redis.call('GET', KEYS[i + 1])) or 0,
                       untl + (burst - 1) * period)
  redis.call('SET', KEYS[i + 1], fmt(tat), 'PX', ttl(tat))
end
return 1
"""


def _script(body: str) -> str:
    return body.replace("MARGIN", str(_MARGIN_MS))


class RedisPacer:
    """`Pacer` whose rate, per-chat interval and 429 pause hold across every instance of a bot.

    `prefix` names the bot (e.g. "kilt:<bot id>"), so two bots on one Redis never share limits.
    `clock=None` uses Redis's clock; tests pass a virtual one with a matching `sleep`.
    """

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        global_rps: float = 25.0,
        per_chat_interval: float = 1.0,
        clock: Callable[[], float] | None = None,
        sleep: Sleep = asyncio.sleep,
        *,
        burst: int = 1,
        paid_rps: float = PAID_RPS,
    ) -> None:
        if global_rps <= 0 or paid_rps <= 0 or per_chat_interval < 0 or burst < 1:
            raise ValueError("need global_rps, paid_rps > 0, per_chat_interval >= 0, burst >= 1")
        self.redis, self.prefix = redis, prefix
        self._rps = {False: global_rps, True: max(paid_rps, global_rps)}
        self._interval, self._burst = per_chat_interval, burst
        self._clock, self._sleep = clock, sleep
        self._acquire = redis.register_script(_script(_ACQUIRE))
        self._confirm = redis.register_script(_script(_CONFIRM))
        self._back_off = redis.register_script(_script(_BACK_OFF))

    def _key(self, *parts: object) -> str:
        return ":".join((self.prefix, "pacer", *map(str, parts)))

    def _now(self) -> str:
        return "" if self._clock is None else repr(float(self._clock()))

    def rate(self, *, paid: bool = False) -> float:
        return self._rps[paid]

    async def acquire(self, chat_id: int, *, paid: bool = False) -> None:
        tat = self._key("tat", "paid") if paid else self._key("tat")
        chat, paused = self._key("chat", chat_id), self._key("paused")
        args = [1.0 / self._rps[paid], self._burst, self._interval]
        while True:
            reserved, now, slot, ready, prev = await self._acquire(
                keys=[tat, chat, paused], args=[self._now(), *args]
            )
            wait = float(slot) - float(now)
            if wait > 0:
                await self._sleep(wait)
            if not int(reserved):
                continue  # the chat was still cooling down; no global slot was taken
            if wait <= 0:
                return  # nothing could have changed between the reservation and now
            ok = await self._confirm(keys=[paused, chat], args=[self._now(), slot, ready, prev])
            if int(ok):
                return

    async def back_off(self, seconds: float) -> None:
        if seconds <= 0:
            return
        await self._back_off(
            keys=[self._key("paused"), self._key("tat"), self._key("tat", "paid")],
            args=[self._now(), seconds, 1.0 / self._rps[False], 1.0 / self._rps[True],
                  self._burst],
        )
