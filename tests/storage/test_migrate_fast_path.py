"""`migrate()` leaves a database at the head revisions alone (and creates an empty one) without
importing Alembic, and still upgrades one that is behind (SQLite + PG); the heads read from the
files are Alembic's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.database import (
    create_engine,
    migrate,
    schema_is_current,
    script_heads,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'fast.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


async def _versions(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        found = set(rows.scalars())
    await engine.dispose()
    return found


def test_script_heads_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    from storage.database import alembic_config

    alembic_heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert script_heads() == frozenset(alembic_heads)


def test_script_heads_two_branches_and_unknown_shapes(tmp_path: Path) -> None:
    def write(name: str, body: str) -> None:
        (tmp_path / name).write_text(body, encoding="utf-8")

    write("a.py", 'revision = "a"\ndown_revision = None\n')
    write("b.py", 'revision: str = "b"\ndown_revision: str | None = "a"\n')
    write("c.py", 'revision = "c"\ndown_revision = "a"  # a second branch\n')
    assert script_heads(tmp_path) == {"b", "c"}
    write("d.py", 'revision = "d"\ndown_revision = ("b", "c")\n')
    assert script_heads(tmp_path) == {"d"}
    write("e.py", 'revision = "e"\ndown_revision = "d"\ndepends_on = "x"\n')
    assert script_heads(tmp_path) is None  # beyond the fast path: Alembic decides


async def test_behind_is_upgraded_current_is_recognised(empty_url: str) -> None:
    heads = script_heads()
    assert heads is not None and "0001" not in heads
    assert not await schema_is_current(empty_url)  # no version table yet
    await migrate(empty_url, "0001")
    assert not await schema_is_current(empty_url)
    await migrate(empty_url)
    assert await _versions(empty_url) == heads
    assert await schema_is_current(empty_url)


def test_empty_and_current_databases_need_no_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'current.sqlite3'}"
    code = (
        "import asyncio, sys\n"
        "from storage.database import migrate\n"
        f"asyncio.run(migrate({url!r}))\n"
        "first = 'alembic' in sys.modules\n"
        "for name in [m for m in sys.modules if m.split('.')[0] == 'alembic']:\n"
        "    del sys.modules[name]\n"
        f"asyncio.run(migrate({url!r}))\n"
        "print(first, 'alembic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=300)
    # The first start creates the schema from the models (storage/fresh_schema.py).
    assert done.stdout.split() == ["False", "False"], done.stderr
