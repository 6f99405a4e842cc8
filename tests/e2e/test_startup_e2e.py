"""Start-up and polling that explain themselves: the real bot process against a local Telegram
that is not there yet, refuses the token, or goes away and comes back while polling."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest

from tests.infra.service import free_port
from tests.infra.tta import BotProcess, TTAClient, TTAServer, make_token, tta_available

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _needs_tta() -> None:
    ok, reason = tta_available()
    if not ok:
        pytest.skip(reason)


def env_for(token: str, api_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "BOT_TOKEN": token,
        "TELEGRAM_API_URL": api_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'startup.sqlite3'}",
        "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
        "LOG_LEVEL": "INFO",
    }


def assert_quiet(log: str, token: str) -> None:
    """No tracebacks, no token, and every log record on one line."""
    assert "Traceback" not in log, log[-3000:]
    assert token.split(":", 1)[1] not in log
    assert "Sleep for" not in log  # aiogram's second line per polling failure is filtered
    records = [line for line in log.splitlines() if line and not line.startswith("=== start")]
    # A log line starts with its time; "error: …" is the one line the CLI prints on exit.
    stray = [line for line in records if not re.match(r"\d{4}-\d\d-\d\d |error: ", line)]
    assert stray == [], stray  # a continuation line would be part of a multi-line record


async def say_help(base_url: str, token: str, chat: int) -> None:
    async with TTAClient(base_url, token) as tg:
        last = await tg.last_bot_message_id(chat)
        await tg.send_command(chat, "/help", language_code="ru")
        await tg.wait_for_bot_message(chat, after_id=last, timeout=30)


async def test_unreachable_telegram_is_retried_then_served(tmp_path: Path) -> None:
    port, token = free_port(), make_token()
    url = f"http://127.0.0.1:{port}"
    with BotProcess(env_for(token, url, tmp_path), cwd=tmp_path,
                    log_path=tmp_path / "bot.log") as bot:
        bot.wait_for_log(f"cannot reach Telegram at {url}, retrying in 1 s", timeout=60)
        bot.wait_for_log(f"cannot reach Telegram at {url}, retrying in 2 s", timeout=30)
        with TTAServer(shim_port=port) as tta:
            bot.wait_for_log("bot started", timeout=60)
            assert bot.running
            await say_help(tta.base_url, token, 73001)
        log = bot.log_text()
    delays = [int(d) for d in re.findall(r"retrying in (\d+) s", log)]
    assert delays[:3] == [1, 2, 4][: len(delays[:3])] and max(delays) <= 60
    assert_quiet(log, token)


async def test_a_token_telegram_rejects_stops_with_one_line_and_code_1(
    tta_server: TTAServer, tta_client: TTAClient, tmp_path: Path
) -> None:
    await tta_client.configure(
        inject=[{"method": "getMe", "code": 401, "description": "Unauthorized", "times": -1}]
    )
    token = tta_client.bot_token
    with BotProcess(env_for(token, tta_server.base_url, tmp_path), cwd=tmp_path,
                    log_path=tmp_path / "bot.log") as bot:
        assert bot.wait(timeout=60) == 1
        log = bot.log_text()
    assert "Telegram rejected BOT_TOKEN (401 Unauthorized)" in log
    assert "retrying" not in log and "bot started" not in log
    assert_quiet(log, token)


async def test_polling_recovers_when_telegram_goes_away_and_comes_back(tmp_path: Path) -> None:
    token = make_token()
    with TTAServer() as tta:
        with BotProcess(env_for(token, tta.base_url, tmp_path), cwd=tmp_path,
                        log_path=tmp_path / "bot.log") as bot:
            bot.wait_for_log("bot started", timeout=60)
            await say_help(tta.base_url, token, 73002)
            tta.stop_shim()
            bot.wait_for_log("Failed to fetch updates", timeout=30)
            tta.start_shim()
            bot.wait_for_log("Connection established", timeout=30)
            await say_help(tta.base_url, token, 73002)
            assert bot.running
            log = bot.log_text()
    failures = [line for line in log.splitlines() if "Failed to fetch updates" in line]
    assert failures and all(token not in line for line in failures)
    assert_quiet(log, token)
