"""LocalPacer on a virtual clock: global rate, per-chat interval, the bot-wide 429 pause."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

import pytest

from bot.delivery import LocalPacer

T = TypeVar("T")
EPS = 1e-9


class FakeTime:
    """Virtual clock: sleepers wake in deadline order once all tasks are blocked; no real waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0
        self._seq = itertools.count()
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps += 1
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self.now + max(delay, 0.0), next(self._seq), fut))
        await fut

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        task = asyncio.ensure_future(coro)
        while not task.done():
            for _ in range(50):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if task.done():
                break
            assert self._waiters, "deadlock: nothing is sleeping and the task is not done"
            when, _, fut = heapq.heappop(self._waiters)
            self.now = max(self.now, when)
            fut.set_result(None)
        return task.result()

    def pacer(self, **kwargs: Any) -> LocalPacer:
        return LocalPacer(clock=self.clock, sleep=self.sleep, **kwargs)


async def _send(
    ft: FakeTime, pacer: LocalPacer, chat_id: int, log: list[tuple[float, int]],
    *, paid: bool = False,
) -> None:
    await pacer.acquire(chat_id, paid=paid)
    log.append((ft.now, chat_id))


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window - EPS:
            start += 1
        best = max(best, end - start + 1)
    return best


def _chat_gaps(log: list[tuple[float, int]]) -> list[float]:
    by_chat: dict[int, list[float]] = {}
    for t, chat in log:
        by_chat.setdefault(chat, []).append(t)
    return [b - a for ts in by_chat.values() for a, b in itertools.pairwise(sorted(ts))]


async def _gather(*aws: Awaitable[None]) -> None:
    await asyncio.gather(*aws)


async def test_hundred_sends_at_25_rps_take_about_four_seconds() -> None:
    ft = FakeTime()
    pacer = ft.pacer(global_rps=25.0)
    log: list[tuple[float, int]] = []

    async def main() -> None:
        for chat in range(100):
            await _send(ft, pacer, chat, log)

    await ft.run(main())
    assert ft.now == pytest.approx(99 / 25)
    assert _max_in_window([t for t, _ in log], 1.0) <= 25


async def test_first_send_is_immediate() -> None:
    ft = FakeTime()
    pacer = ft.pacer()
    log: list[tuple[float, int]] = []
    await ft.run(_send(ft, pacer, 1, log))
    assert log == [(0.0, 1)] and ft.sleeps == 0


async def test_same_chat_is_spaced_by_interval() -> None:
    ft = FakeTime()
    pacer = ft.pacer(global_rps=25.0, per_chat_interval=1.0)
    log: list[tuple[float, int]] = []

    async def main() -> None:
        for _ in range(5):
            await _send(ft, pacer, 42, log)

    await ft.run(main())
    assert [t for t, _ in log] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])


async def test_waiting_chat_does_not_block_other_chats() -> None:
    ft = FakeTime()
    pacer = ft.pacer(global_rps=10.0, per_chat_interval=5.0)
    log: list[tuple[float, int]] = []
    jobs = [_send(ft, pacer, 1, log), _send(ft, pacer, 1, log)]
    jobs += [_send(ft, pacer, chat, log) for chat in range(2, 6)]
    await ft.run(_gather(*jobs))
    chat1 = [t for t, c in log if c == 1]
    others = [t for t, c in log if c != 1]
    assert chat1[1] - chat1[0] >= 5.0 - EPS
    assert max(others) < 1.0  # four other chats go out at 10 rps while chat 1 cools down


async def test_concurrent_senders_respect_both_limits() -> None:
    ft = FakeTime()
    pacer = ft.pacer(global_rps=25.0, per_chat_interval=1.0)
    log: list[tuple[float, int]] = []
    # 300 messages over 30 chats, 10 each, all started at once.
    await ft.run(_gather(*(_send(ft, pacer, i % 30, log) for i in range(300))))
    assert len(log) == 300
    assert _max_in_window([t for t, _ in log], 1.0) <= 25
    assert min(_chat_gaps(log)) >= 1.0 - EPS
    assert ft.now == pytest.approx(299 / 25, abs=1.0)  # the global rate is the bottleneck


async def test_burst_allows_a_small_initial_burst_only() -> None:
    ft = FakeTime()
    pacer = ft.pacer(global_rps=10.0, burst=3)
    log: list[tuple[float, int]] = []
    await ft.run(_gather(*(_send(ft, pacer, chat, log) for chat in range(23))))
    times = sorted(t for t, _ in log)
    assert times[:3] == [0.0, 0.0, 0.0]
    assert times[3] == pytest.approx(0.1)
    assert times[-1] == pytest.approx(2.0)  # 3 at once, then 20 more at 10 per second


async def test_back_off_pauses_everyone() -> None:
    ft = FakeTime()
    pacer = ft.pacer(global_rps=25.0)
    log: list[tuple[float, int]] = []

    async def main() -> None:
        for chat in range(5):
            await _send(ft, pacer, chat, log)
        await pacer.back_off(10.0)
        await _gather(*(_send(ft, pacer, chat, log) for chat in range(5, 55)))

    await ft.run(main())
    before, after = log[:5], log[5:]
    pause_start = before[-1][0]
    assert all(t >= pause_start + 10.0 - EPS for t, _ in after)
    # No burst when the pause ends: still 25 per second.
    assert _max_in_window([t for t, _ in after], 1.0) <= 25


async def test_back_off_requeues_tasks_already_holding_a_slot() -> None:
    ft = FakeTime()
    pacer = ft.pacer(global_rps=10.0)
    log: list[tuple[float, int]] = []

    async def flood_control_at_half_second() -> None:
        await ft.sleep(0.45)
        await pacer.back_off(30.0)

    await ft.run(
        _gather(flood_control_at_half_second(), *(_send(ft, pacer, c, log) for c in range(20)))
    )
    early = [t for t, _ in log if t < 0.45]
    late = sorted(t for t, _ in log if t >= 0.45)
    assert len(early) == 5  # slots 0.0 .. 0.4 went out before the 429
    assert late[0] == pytest.approx(30.45)
    assert _max_in_window(late, 1.0) <= 10


async def test_shorter_penalty_does_not_shorten_a_longer_one() -> None:
    ft = FakeTime()
    pacer = ft.pacer()
    await pacer.back_off(20.0)
    await pacer.back_off(5.0)
    await pacer.back_off(0.0)
    assert pacer.paused_until == pytest.approx(20.0)
    log: list[tuple[float, int]] = []
    await ft.run(_send(ft, pacer, 1, log))
    assert log == [(pytest.approx(20.0), 1)]


async def test_idle_chats_are_forgotten() -> None:
    ft = FakeTime()
    pacer = ft.pacer(global_rps=1000.0, per_chat_interval=1.0)
    log: list[tuple[float, int]] = []
    await ft.run(_gather(*(_send(ft, pacer, chat, log) for chat in range(500))))
    assert pacer.tracked_chats == 500
    ft.now += 2.0
    await ft.run(_send(ft, pacer, 9999, log))
    assert pacer.tracked_chats == 1


async def test_memory_stays_bounded_over_a_long_broadcast() -> None:
    ft = FakeTime()
    pacer = ft.pacer(global_rps=25.0, per_chat_interval=1.0)
    peak = 0

    async def main() -> None:
        nonlocal peak
        for chat in range(2000):
            await pacer.acquire(chat)
            peak = max(peak, pacer.tracked_chats)

    await ft.run(main())
    assert peak <= 27  # about one second worth of chats


async def test_real_clock_smoke() -> None:
    pacer = LocalPacer(global_rps=1000.0, per_chat_interval=0.0)
    await asyncio.gather(*(pacer.acquire(chat) for chat in range(20)))


async def test_paid_lane_has_its_own_rate_but_shares_chats_and_pauses() -> None:
    ft = FakeTime()
    pacer = ft.pacer(global_rps=10.0, paid_rps=100.0)
    assert pacer.rate() == 10.0 and pacer.rate(paid=True) == 100.0
    free: list[tuple[float, int]] = []
    paid: list[tuple[float, int]] = []
    await ft.run(_gather(
        *(_send(ft, pacer, chat, free) for chat in range(10)),
        *(_send(ft, pacer, chat, paid, paid=True) for chat in range(100, 200)),
    ))
    assert max(t for t, _ in paid) == pytest.approx(0.99)  # 100 paid sends at 100 per second
    assert max(t for t, _ in free) == pytest.approx(0.9)  # the free lane keeps its 10 per second
    # One chat still gets at most one message a second, whichever lane it is sent on.
    log: list[tuple[float, int]] = []
    await ft.run(_gather(_send(ft, pacer, 7, log), _send(ft, pacer, 7, log, paid=True)))
    assert log[1][0] - log[0][0] >= 1.0 - EPS
    # A 429 pauses the paid lane too: flood control is bot-wide.
    await pacer.back_off(5.0)
    start = ft.now
    await ft.run(_send(ft, pacer, 300, log, paid=True))
    assert log[-1][0] == pytest.approx(start + 5.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"global_rps": 0.0}, {"per_chat_interval": -1.0}, {"burst": 0}, {"paid_rps": 0.0}],
)
def test_invalid_settings_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        LocalPacer(**kwargs)  # type: ignore[arg-type]
