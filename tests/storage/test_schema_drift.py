"""The migrated schema is what the models declare, on SQLite and on PostgreSQL: a model change
without its migration (say, Integer -> BigInteger for an id) would pass on one backend only."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from storage.database import create_engine
from storage.models import Base


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
