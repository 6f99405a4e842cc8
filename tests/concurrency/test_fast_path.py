"""The per-update fast path: what it caches must stay alive and stay correct."""

from __future__ import annotations

import gc
import json
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import Response, SendMessage
from aiogram.types import CallbackQuery, Message

from bot.response_types import _PINNED
from bot.telegram_session import JsonBodySession
from tests.support.telegram import UpdateFactory


async def test_response_models_survive_garbage_collection(bot: Bot) -> None:
    """The bot's session reads an answer through a model that a collection cannot drop."""
    session = JsonBodySession()
    sent = {"message_id": 5, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "a"}
    answer = session.check_response(
        bot, SendMessage(chat_id=1, text="a"), 200, json.dumps({"ok": True, "result": sent})
    )
    assert answer.result.message_id == 5
    pinned = _PINNED[Message]
    gc.collect()
    # The very class aiogram asks for on an error answer: pydantic's weak cache still holds it.
    assert Response[Message] is pinned
    await session.close()


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
