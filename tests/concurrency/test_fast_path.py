"""The per-update fast path: what it caches must stay alive and stay correct."""

from __future__ import annotations

import gc
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import Response
from aiogram.types import CallbackQuery, Message

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


async def test_routers_without_handlers_for_the_update_type_are_skipped(bot: Bot) -> None:
    from aiogram import Router

    from bot.routing import index_routes

    dp, texts, taps = Dispatcher(), Router(name="texts"), Router(name="taps")
    passes: list[str] = []

    @texts.message()
    async def on_text(message: Message) -> None:
        passes.append("text")

    @taps.callback_query()
    async def on_tap(query: CallbackQuery) -> None:
        passes.append("tap")

    dp.include_routers(texts, taps)
    walked: list[str] = []
    for router in (texts, taps):
        real = router.propagate_event

        async def spy(update_type: str, event: Any, _r: Any = router, _real: Any = real,
                      **kw: Any) -> Any:
            walked.append(_r.name)
            return await _real(update_type=update_type, event=event, **kw)

        router.propagate_event = spy  # type: ignore[method-assign]
    index_routes(dp)
    who = UpdateFactory(64_300)
    await dp.feed_update(bot, who.callback("x"))
    await dp.feed_update(bot, who.message("hi"))
    assert passes == ["tap", "text"]
    assert walked == ["taps", "texts"]  # each update walked only the router that serves it
