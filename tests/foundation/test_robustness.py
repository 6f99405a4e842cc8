"""A failing handler apologises with a reference; floods are throttled politely."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod

from bot.config import Settings
from bot.i18n import Translator
from bot.middlewares import ThrottlingMiddleware
from tests.support.telegram import RecordingSession, UpdateFactory


def fail_once(exc: Exception) -> Any:
    state = {"done": False}

    def fail(method: TelegramMethod[Any]) -> Exception | None:
        if isinstance(method, SendMessage) and not state["done"]:
            state["done"] = True
            return exc
        return None

    return fail


async def test_handler_error_apologises_with_reference_and_no_traceback(
    dp: Dispatcher,
    bot: Bot,
    session: RecordingSession,
    translator: Translator,
    kk_user: UpdateFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session.failures.append(fail_once(RuntimeError("boom with user text Айгерим")))
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        await dp.feed_update(bot, kk_user.message("/help"))
    reply = session.last_text()
    prefix = translator.get("kk", "error-generic", ref="X").rsplit("X", 1)[0]
    assert reply.startswith(prefix)
    ref = reply.rsplit(" ", 1)[-1]
    assert len(ref) == 8 and "Traceback" not in reply and "boom" not in reply
    record = next(r for r in caplog.records if r.name == "bot.errors")
    assert ref in record.getMessage() and "Айгерим" not in record.getMessage()
    assert "Айгерим" not in caplog.text and "boom" not in caplog.text  # not even in the stack
    assert "make_request" in record.getMessage()  # but the stack is there for developers


async def test_throttling_warns_once_then_drops(
    settings: Settings,
    translator: Translator,
    bot: Bot,
    session: RecordingSession,
    pool: Any,
    cipher: Any,
    clock: Any,
) -> None:
    from bot.app import build_dispatcher

    strict = settings.model_copy(update={"throttle_per_minute": 15})
    dp = build_dispatcher(strict, pool, cipher, translator, clock)
    user = UpdateFactory(8100, "ru")
    for _ in range(12):
        await dp.feed_update(bot, user.message("/help"))
    texts = session.texts()
    assert texts.count(translator.get("ru", "throttled")) == 1
    assert texts.count(translator.get("ru", "help-text")) == 5  # the burst capacity


async def test_throttle_refills_over_time() -> None:
    now = [0.0]
    mw = ThrottlingMiddleware(60, clock=lambda: now[0])
    calls: list[int] = []

    async def handler(event: Any, data: dict[str, Any]) -> None:
        calls.append(1)

    from aiogram.types import User

    data: dict[str, Any] = {"event_from_user": User(id=1, is_bot=False, first_name="a")}
    for _ in range(20):
        await mw(handler, object(), data)  # type: ignore[arg-type]
    assert len(calls) == 20  # capacity 20 at 60/min
    data["t"] = lambda *_a, **_k: "slow down"
    await mw(handler, object(), data)  # type: ignore[arg-type]
    assert len(calls) == 20
    now[0] += 2.0  # two tokens back after two seconds
    await mw(handler, object(), data)  # type: ignore[arg-type]
    assert len(calls) == 21


async def test_error_in_callback_is_answered_as_alert(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator
) -> None:
    def fail(method: TelegramMethod[Any]) -> Exception | None:
        if isinstance(method, SendMessage):
            return RuntimeError("x")
        return None

    session.failures.append(fail)
    user = UpdateFactory(8200, "ru")
    await dp.feed_update(bot, user.callback("lang:kk"))
    alerts = [r for r in session.requests if isinstance(r, AnswerCallbackQuery) and r.show_alert]
    assert alerts and alerts[-1].text.startswith(
        translator.get("ru", "error-generic", ref="X").rsplit("X", 1)[0]
    )
