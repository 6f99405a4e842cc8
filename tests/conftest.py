"""Shared fixtures: a migrated SQLite file, the real dispatcher, a recording bot, a fake clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher

from bot.app import build_dispatcher
from bot.broadcast.engine import BroadcastEngine
from bot.config import Settings
from bot.delivery import LocalPacer
from bot.i18n import Translator
from bot.qa.service import QAService, build_service
from storage.database import SessionPool, create_engine, create_session_pool, migrate
from storage.encryption import FieldCipher
from tests.support.telegram import RecordingSession, UpdateFactory, make_bot

ADMIN_ID = 777


@dataclass
class FakeClock:
    """A controllable 'now' for everything time-dependent."""

    now: datetime = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 11:00 in Almaty

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def translator() -> Translator:
    return Translator()


@pytest.fixture(scope="session")
def qa_service() -> QAService:
    """Built once, as the bot builds it once at start-up."""
    return build_service()


@pytest.fixture
def data_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def cipher(data_key: bytes) -> FieldCipher:
    return FieldCipher(data_key)


@pytest.fixture
async def db_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await migrate(url)
    return url


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[SessionPool]:
    engine = create_engine(db_url)
    yield create_session_pool(engine)
    await engine.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token="4242:TEST-token-for-recorded-sessions-only",
        database_url=db_url,
        admin_ids=[ADMIN_ID],
        data_dir=tmp_path,
        throttle_per_minute=600,
    )


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    bot = make_bot()
    yield bot
    await bot.session.close()


@pytest.fixture
def session(bot: Bot) -> RecordingSession:
    assert isinstance(bot.session, RecordingSession)
    return bot.session


@pytest.fixture
def pacer() -> LocalPacer:
    """The bot's one pacer, wide open: handler tests are not about pacing."""
    return LocalPacer(10_000.0, per_chat_interval=0.0)


@pytest.fixture
def broadcasts(
    bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    settings: Settings, clock: FakeClock, pacer: LocalPacer,
) -> BroadcastEngine:
    """The broadcast engine the dispatcher's admin dialog starts broadcasts on."""
    return BroadcastEngine(bot, pool, cipher, translator, settings, clock, pacer)


@pytest.fixture
def dp(
    settings: Settings,
    pool: SessionPool,
    cipher: FieldCipher,
    translator: Translator,
    clock: FakeClock,
    qa_service: QAService,
    broadcasts: BroadcastEngine,
) -> Dispatcher:
    return build_dispatcher(
        settings, pool, cipher, translator, clock, qa=qa_service, broadcasts=broadcasts
    )


@pytest.fixture
def ru_user() -> UpdateFactory:
    return UpdateFactory(user_id=1001, language_code="ru")


@pytest.fixture
def kk_user() -> UpdateFactory:
    return UpdateFactory(user_id=1002, language_code="kk")


# PostgreSQL started by the tests themselves (initdb + pg_ctl on 127.0.0.1).
from tests.infra.postgres import postgres_server, postgres_url  # noqa: E402,F401

# Redis started by the tests themselves (redis-server on 127.0.0.1, no persistence).
from tests.infra.redis import redis_server, redis_url  # noqa: E402,F401


@pytest.fixture(params=["sqlite", "postgres"])
async def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same storage tests on the embedded SQLite file and on a real PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'storage.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    await migrate(url)
    return url


@pytest.fixture
async def backend_pool(backend_url: str) -> AsyncIterator[SessionPool]:
    engine = create_engine(backend_url)
    yield create_session_pool(engine)
    await engine.dispose()
