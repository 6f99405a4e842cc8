"""A first start on an empty database: the schema from the models in one transaction, and
Alembic's version row for the head revisions, without importing or running Alembic.

Running the migrations 0001→head on an empty database cost about 0.25 s of a first start
(Alembic's import, then each revision's batch operations). The models are the head schema:
tests/storage/test_fresh_schema.py checks that what this creates is what the migrations create,
table by table, on SQLite and PostgreSQL. A database with any table at all (an older schema, or
one being migrated) is left to Alembic.

Two processes starting on one empty database do not both create: the check and the creation
hold a lock that a second process waits for (SQLite: BEGIN IMMEDIATE, the database's write
lock; PostgreSQL: a transaction-level advisory lock), and the second then finds the tables.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.engine import Connection

from storage.models import Base

# pg_advisory_xact_lock key of "create the schema of an empty database" (any fixed bigint;
# the bytes of "kiltschm").
SCHEMA_LOCK = 0x6B696C747363686D


def version_table() -> Table:
    """Alembic's alembic_version table, as Alembic creates it (alembic.ddl.impl)."""
    return Table(
        "alembic_version", MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )


def _lock(conn: Connection) -> bool:
    """Take the schema lock for this transaction; False for a backend without one here."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
    else:
        return False
    return True


def create_if_empty(conn: Connection, heads: Iterable[str]) -> bool:
    """When the database has no table at all, create the models' schema and stamp `heads`,
    committed together; True if it did. Anything else is rolled back and left to Alembic."""
    if inspect(conn).get_table_names():  # the usual case, decided without a lock
        conn.rollback()
        return False
    if not _lock(conn):
        conn.rollback()
        return False
    try:
        if inspect(conn).get_table_names():  # another process created it meanwhile
            conn.rollback()
            return False
        Base.metadata.create_all(conn, checkfirst=False)
        versions = version_table()
        versions.create(conn)
        conn.execute(versions.insert(), [{"version_num": head} for head in sorted(heads)])
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return True
