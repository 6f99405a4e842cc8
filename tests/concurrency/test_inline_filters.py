"""Synchronous filters run on the event loop, not in a worker thread per filter."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import Bot, Dispatcher

from tests.support.telegram import RecordingSession, UpdateFactory


async def test_no_thread_hop_per_update(
    dp: Dispatcher, bot: Bot, session: RecordingSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops: list[Any] = []
    real = asyncio.to_thread

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(fn)
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counting)
    who = UpdateFactory(64_000)
    await dp.feed_update(bot, who.message("/start"))
    await dp.feed_update(bot, who.message("как хранить ключ?"))
    assert hops == []
    assert session.sent()  # the updates were really handled
