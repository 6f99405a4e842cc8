"""End-to-end fixtures: the real `python -m bot run` process against ../shared/tta."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.tta import BotProcess, TTAServer, tta_client, tta_server, tta_token  # noqa: F401


@pytest.fixture
def bot_env(tta_server: TTAServer, tta_token: str, tmp_path: Path) -> dict[str, str]:  # noqa: F811
    return {
        "BOT_TOKEN": tta_token,
        "TELEGRAM_API_URL": tta_server.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'e2e.sqlite3'}",
        "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
        "ADMIN_IDS": "900001",
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def bot_process(bot_env: dict[str, str], tmp_path: Path) -> Iterator[BotProcess]:
    with BotProcess(bot_env, cwd=tmp_path, log_path=tmp_path / "bot.log") as proc:
        proc.wait_for_log("bot started", timeout=60)
        yield proc
