"""The per-update fast path: what it caches must stay alive and stay correct."""

from __future__ import annotations

import gc

from aiogram import Bot, Dispatcher
from aiogram.methods import Response
from aiogram.types import Message

from bot.response_types import _PINNED
from tests.support.telegram import RecordingSession, UpdateFactory


async def test_response_models_survive_garbage_collection(
    dp: Dispatcher, bot: Bot, session: RecordingSession
) -> None:
    await dp.feed_update(bot, UpdateFactory(64_100).message("/help"))
    assert session.sent()
    pinned = _PINNED[Message]
    gc.collect()
    # The very class aiogram will ask for next: pydantic's weak cache still holds it.
    assert Response[Message] is pinned
