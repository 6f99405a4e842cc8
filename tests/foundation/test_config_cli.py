"""Configuration errors are one line naming the variable; the CLI describes itself."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.logging_setup import RedactSecrets
from storage.database import create_engine

REPO = Path(__file__).resolve().parents[2]
GOOD_TOKEN = "123456789:AAH-fake-but-well-formed-token_x"


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full_env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), **env}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"DATA_KEY": "c2hvcnQ="}, "DATA_KEY"),
        ({"ADMIN_IDS": "1,abc"}, "ADMIN_IDS"),
        ({"BOT_TIMEZONE": "Mars/Olympus"}, "BOT_TIMEZONE"),
        ({"DB_POOL_SIZE": "0"}, "DB_POOL_SIZE"),
        ({"DB_MAX_OVERFLOW": "-1"}, "DB_MAX_OVERFLOW"),
    ],
)
def test_bad_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], needle: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(needle) and "\n" not in message
    for value in env.values():
        assert value not in message or len(value) < 8  # never echo a secret back


async def test_pool_settings_reach_the_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings(_env_file=None).engine_options() == {  # type: ignore[call-arg]
        "pool_size": 5, "max_overflow": 10}
    monkeypatch.setenv("DB_POOL_SIZE", "12")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "3")
    settings = load_settings()
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}",
                           **settings.engine_options())
    try:
        assert (engine.pool.size(), engine.pool._max_overflow) == (12, 3)  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


def test_data_key_file_is_created_once_with_0600(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    key, old = settings.data_keys()
    path = tmp_path / "data.key"
    assert len(key) == 32 and old == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings.data_keys()[0] == key  # reused, never regenerated


def test_unreadable_key_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "data.key").write_text("###")
    with pytest.raises(ConfigError, match="DATA_KEY file"):
        Settings(_env_file=None, data_dir=tmp_path).data_keys()  # type: ignore[call-arg]


def test_old_keys_for_rotation() -> None:
    k1, k2 = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    s = Settings(_env_file=None, data_key=k1, data_key_old=f"{k2}")  # type: ignore[call-arg]
    current, old = s.data_keys()
    assert base64.b64encode(current).decode() == k1 and len(old) == 1


def test_redaction_filter_hides_token() -> None:
    import logging

    record = logging.LogRecord("x", logging.INFO, "", 0, "url /bot%s/getMe", (GOOD_TOKEN,), None)
    RedactSecrets([GOOD_TOKEN]).filter(record)
    assert GOOD_TOKEN not in record.getMessage()


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_cli("--help", env={}, cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "migrate", "ask", "rotate-key"):
        assert command in result.stdout
    ask = run_cli("ask", "--help", env={}, cwd=tmp_path)
    assert "--json" in ask.stdout and "--lang" in ask.stdout


def test_run_without_token_fails_with_one_line(tmp_path: Path) -> None:
    result = run_cli("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: BOT_TOKEN is not set: put the token from @BotFather in BOT_TOKEN"
    ]


def test_migrate_creates_sqlite_under_data(tmp_path: Path) -> None:
    result = run_cli("migrate", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "bot.sqlite3").exists()
    assert (tmp_path / "data" / "data.key").exists()
