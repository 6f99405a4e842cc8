"""LOG_FORMAT=json: one JSON object per line with the update's correlation id, which is also the
reference the user sees in the error message."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import Update

from bot.app import build_dispatcher
from bot.config import Settings
from bot.dedup import MemoryDedup
from bot.i18n import Translator
from bot.logging_setup import make_handler
from bot.qa.service import QAService
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession, UpdateFactory

SECRET = "4242:TEST-token-for-recorded-sessions-only"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = make_handler([SECRET], "json")
    handler.setStream(stream)  # type: ignore[attr-defined]
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_json_lines_carry_the_update_correlation_id(
    json_lines: io.StringIO, settings: Settings, pool: SessionPool, cipher: FieldCipher,
    translator: Translator, clock: FakeClock, qa_service: QAService, bot: Bot,
    session: RecordingSession,
) -> None:
    dp = build_dispatcher(settings, pool, cipher, translator, clock, qa=qa_service,
                          dedup=MemoryDedup(60.0))
    who = UpdateFactory(86_000, "ru")
    update = who.message("/help")
    await dp.feed_update(bot, update)
    await dp.feed_update(bot, Update.model_validate(update.model_dump()))  # a re-delivery

    def fail_first(method: TelegramMethod[Any]) -> Exception | None:
        session.failures.clear()
        return RuntimeError("boom") if isinstance(method, SendMessage) else None

    session.failures.append(fail_first)
    failing = who.message("/help")
    await dp.feed_update(bot, failing)
    logging.getLogger("bot.test").info("outside any update, token %s", SECRET)

    lines = records(json_lines)
    assert {"ts", "level", "logger", "message", "correlation_id", "update_id"} <= set(lines[0])
    skipped = next(r for r in lines if "delivered again" in r["message"])
    assert skipped["update_id"] == update.update_id and len(skipped["correlation_id"]) == 8
    failed = next(r for r in lines if r["logger"] == "bot.errors")
    assert failed["level"] == "ERROR" and failed["update_id"] == failing.update_id
    ref = failed["correlation_id"]
    assert ref != skipped["correlation_id"]
    # The user is told the same reference the operator finds in the logs.
    assert session.last_text() == translator.get("ru", "error-generic", ref=ref)
    assert "boom" not in json_lines.getvalue()  # exception messages may echo user text
    outside = lines[-1]
    assert outside["correlation_id"] is None and outside["update_id"] is None
    assert SECRET not in json_lines.getvalue() and "***" in outside["message"]
