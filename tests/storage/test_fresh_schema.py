"""An empty database gets its schema from the models (storage/fresh_schema.py) instead of the
migrations: that schema must be the one the migrations build, on SQLite and PostgreSQL, down to
types, nullability, defaults, indexes (their predicates too) and constraints. Two processes
starting on one empty database create it once."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

import storage.database
from storage import fresh_schema
from storage.database import create_engine, migrate, migrate_sync, script_heads
from storage.models import Base
from tests.conftest import backend_params


@pytest.fixture(params=backend_params())
def two_empty_urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return tuple(f"sqlite+aiosqlite:///{tmp_path / name}" for name in ("a.db", "b.db"))
    server = request.getfixturevalue("postgres_server")
    return server.create_database(), server.create_database()


def _schema(conn: Connection) -> dict[str, Any]:
    """Everything the inspector reports about each table, and its rows, comparably."""
    insp, dialect = inspect(conn), conn.dialect
    tables: dict[str, Any] = {}
    for name in sorted(insp.get_table_names()):
        columns = {
            c["name"]: (c["type"].compile(dialect=dialect), c["nullable"], c.get("default"),
                        c.get("autoincrement"), c.get("comment"))
            for c in insp.get_columns(name)
        }
        indexes = sorted(
            (i["name"], tuple(i["column_names"]), i["unique"],
             sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items()))
            for i in insp.get_indexes(name)
        )
        foreign = sorted(
            (f["name"], tuple(f["constrained_columns"]), f["referred_table"],
             tuple(f["referred_columns"]), sorted(f.get("options", {}).items()))
            for f in insp.get_foreign_keys(name)
        )
        pk = insp.get_pk_constraint(name)
        tables[name] = {
            "columns": columns,
            "pk": (pk["name"], tuple(pk["constrained_columns"])),
            "fk": foreign,
            "indexes": indexes,
            "unique": sorted((u["name"], tuple(u["column_names"]))
                             for u in insp.get_unique_constraints(name)),
            "checks": sorted((c["name"], c["sqltext"]) for c in insp.get_check_constraints(name)),
            "rows": conn.execute(text(f'SELECT * FROM "{name}"')).all(),
        }
    return tables


async def _reflect(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_schema)
    finally:
        await engine.dispose()


async def test_models_schema_is_the_migrated_schema(
    two_empty_urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    by_alembic, by_models = two_empty_urls
    await asyncio.to_thread(migrate_sync, by_alembic)

    def no_alembic(*_: object) -> None:
        raise AssertionError("an empty database went through Alembic")

    monkeypatch.setattr(storage.database, "migrate_sync", no_alembic)
    await migrate(by_models)
    migrated, created = await _reflect(by_alembic), await _reflect(by_models)
    assert created["alembic_version"]["rows"] == [(h,) for h in sorted(script_heads() or ())]
    assert set(created) == set(migrated) >= set(Base.metadata.tables)
    # Columns are compared by name, not position: a migration appends a column it adds (keys.
    # last_used_at comes last there), and no statement of ours depends on column order.
    for table in migrated:
        assert created[table] == migrated[table], table


async def test_a_database_with_tables_goes_through_alembic(
    two_empty_urls: tuple[str, str]
) -> None:
    url = two_empty_urls[0]
    await migrate(url, "0003")  # an older schema: only Alembic knows the way up
    await migrate(url)
    versions = (await _reflect(url))["alembic_version"]["rows"]
    assert versions == [(h,) for h in sorted(script_heads() or ())]
    assert "reminder_claims" in await _reflect(url)


async def _hold_schema_lock(url: str, locked: threading.Event, release: threading.Event
                            ) -> None:
    """Another process half-way through creating the schema: lock held, a table created."""
    engine = create_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(fresh_schema._lock)
        await conn.execute(text("CREATE TABLE other_process (id INTEGER)"))
        locked.set()
        while not release.is_set():
            await asyncio.sleep(0.01)
        await conn.commit()
    await engine.dispose()


async def test_a_second_starter_waits_and_finds_the_tables(
    two_empty_urls: tuple[str, str]
) -> None:
    url = two_empty_urls[0]
    locked, release = threading.Event(), threading.Event()
    other = threading.Thread(target=asyncio.run, args=(_hold_schema_lock(url, locked, release),))
    other.start()
    try:
        assert locked.wait(60)
        # Released while this one waits for the lock (on SQLite the wait blocks this thread).
        threading.Timer(0.2, release.set).start()
        engine = create_engine(url)
        async with engine.connect() as conn:
            created = await conn.run_sync(fresh_schema.create_if_empty, {"0004"})
        await engine.dispose()
    finally:
        release.set()
        other.join(60)
    assert not created
    assert set(await _reflect(url)) == {"other_process"}

