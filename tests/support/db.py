"""Database helpers for tests that run on both backends."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select, text

from storage.database import SessionPool
from storage.models import Base


async def stored_bytes(pool: SessionPool, url: str) -> bytes:
    """Everything the database holds, for "no plaintext anywhere" checks.

    On SQLite: the file itself, byte for byte, after folding the WAL into it. On PostgreSQL (whose
    files may live on another host): every value of every table as stored — bytes as they are, text
    as UTF-8, JSON as UTF-8 text — so a needle in any column, encrypted or not, is found.
    """
    if url.startswith("sqlite"):
        async with pool() as session:
            await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return Path(url.split("///", 1)[1]).read_bytes()
    parts: list[bytes] = []
    async with pool() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        parts.append(bytes(value))
                    elif isinstance(value, dict | list):
                        parts.append(json.dumps(value, ensure_ascii=False).encode())
                    else:
                        parts.append(str(value).encode())
    return b"\n".join(parts)
