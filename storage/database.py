"""Engine, session pool and schema migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.write_gate import install_write_gate

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

SessionPool = async_sessionmaker[AsyncSession]
SQLITE_TIMEOUT = 30.0  # seconds a writer waits for another (process) before "locked"


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    _ensure_sqlite_dir(url)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": SQLITE_TIMEOUT})
    # Under a burst, an update waits for a pooled connection instead of failing after the
    # default 30 s: a lost update is worse than a slow one.
    kwargs.setdefault("pool_timeout", 300)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        # Writers of this process queue on the event loop, not in SQLite's sleeping busy loop.
        install_write_gate(engine, SQLITE_TIMEOUT)
    return engine


def create_session_pool(engine: AsyncEngine) -> SessionPool:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(pool: SessionPool) -> None:
    """`SELECT 1` on a pooled connection; raises when the database is unreachable."""
    async with pool() as session:
        await session.execute(text("SELECT 1"))


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate_sync(url: str, revision: str = "heads") -> None:
    """Bring the schema up to `revision` (blocking; Alembic runs its own event loop)."""
    _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def downgrade_sync(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def migrate(url: str, revision: str = "heads") -> None:
    """Run migrations from async code, in a worker thread with its own loop."""
    await asyncio.to_thread(migrate_sync, url, revision)
