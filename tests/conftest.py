"""Shared fixtures: a migrated database (SQLite and PostgreSQL), the real dispatcher, a recording
bot, a fake clock.

Every test that uses the database (`db_url`, `pool`, `settings`, `dp`, `broadcasts`, `backend_url`,
`backend_pool`) runs once per backend: `[sqlite]` on a file copied from a template migrated once per
session, `[postgres]` on a database the server copies from `kilt_template` (migrated once per
session). `KILT_TEST_BACKENDS=sqlite` (or `postgres`) runs one backend only; without PostgreSQL
binaries the `[postgres]` variants are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
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
from storage.database import SessionPool, create_engine, create_session_pool, migrate_sync
from storage.encryption import FieldCipher
from tests.support.telegram import RecordingSession, UpdateFactory, make_bot

ADMIN_ID = 777
BACKENDS_ENV = "KILT_TEST_BACKENDS"
ALL_BACKENDS = ("sqlite", "postgres")


def selected_backends() -> list[str]:
    """The backends database tests run on: KILT_TEST_BACKENDS, comma-separated (default both)."""
    raw = os.environ.get(BACKENDS_ENV, "").strip() or ",".join(ALL_BACKENDS)
    chosen = [b.strip().lower() for b in raw.split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(ALL_BACKENDS))
    if unknown or not chosen:
        raise pytest.UsageError(
            f"{BACKENDS_ENV}={raw!r}: expected a comma-separated subset of "
            f"{', '.join(ALL_BACKENDS)}"
        )
    return [b for b in ALL_BACKENDS if b in chosen]


def backend_params() -> list[object]:
    """pytest params with ids `sqlite` / `postgres`; the postgres ones carry the `postgres` mark."""
    return [
        pytest.param(b, id=b, marks=[pytest.mark.postgres] if b == "postgres" else [])
        for b in selected_backends()
    ]


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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy (alembic per test costs
    ~0.2 s, a copy ~1 ms)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    migrate_sync(f"sqlite+aiosqlite:///{path}")
    # the migration's engine is disposed: the WAL is folded into the file, which stays in WAL mode
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=backend_params())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of its own for each test, on each backend of KILT_TEST_BACKENDS."""
    if request.param == "sqlite":
        path = tmp_path / "bot.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    only = request.node.get_closest_marker("sqlite_only")
    if only is not None:
        pytest.skip(f"SQLite only: {only.kwargs.get('reason') or only.args[0]}")
    return str(request.getfixturevalue("postgres_db"))


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
from tests.infra.postgres import (  # noqa: E402,F401
    postgres_db,
    postgres_server,
    postgres_template,
    postgres_url,
)

# Redis started by the tests themselves (redis-server on 127.0.0.1, no persistence).
from tests.infra.redis import redis_server, redis_url  # noqa: E402,F401


@pytest.fixture
def backend_url(db_url: str) -> str:
    """The storage tests' name for `db_url`: the same database, the same two backends."""
    return db_url


@pytest.fixture
async def backend_pool(backend_url: str) -> AsyncIterator[SessionPool]:
    engine = create_engine(backend_url)
    yield create_session_pool(engine)
    await engine.dispose()
