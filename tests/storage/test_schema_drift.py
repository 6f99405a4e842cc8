"""The migrated schema is what the models declare, on SQLite and on PostgreSQL: a model change
without its migration (say, Integer -> BigInteger for an id) would pass on one backend only. And
the whole chain goes down to nothing and up again on both."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.database import create_engine, downgrade_sync, migrate
from storage.models import Base
from tests.conftest import backend_params


@pytest.fixture(params=backend_params())
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrations_produce_the_models_schema(backend_url: str) -> None:
    def diff(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = create_engine(backend_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


async def test_the_whole_chain_goes_down_and_up_again(empty_url: str) -> None:
    await migrate(empty_url)
    assert set(Base.metadata.tables) <= await _tables(empty_url)
    await asyncio.to_thread(downgrade_sync, empty_url, "base")
    assert await _tables(empty_url) <= {"alembic_version"}
    await migrate(empty_url)
    assert set(Base.metadata.tables) <= await _tables(empty_url)
