"""SIGTERM to the real bot process while an update is in flight: the reply still goes out, the
process exits with 0. Also /healthz and /metrics on METRICS_PORT in polling mode, and Redis."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time

import aiohttp
import pytest

from bot.i18n import Translator
from tests.infra.service import free_port
from tests.infra.tta import BotProcess, TTAClient, html_to_text

pytestmark = pytest.mark.e2e



@pytest.fixture(params=["in-process", "redis"])
def bot_env(
    request: pytest.FixtureRequest, bot_env: dict[str, str]
) -> dict[str, str]:
    env = {**bot_env, "METRICS_PORT": str(free_port()), "SHUTDOWN_TIMEOUT": "20"}
    if request.param == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
    return env


async def metric(http: aiohttp.ClientSession, base: str, name: str) -> float | None:
    async with http.get(f"{base}/metrics") as resp:
        for line in (await resp.text()).splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    return None


async def test_sigterm_finishes_the_update_in_flight_and_exits_cleanly(
    bot_process: BotProcess, tta_client: TTAClient, bot_env: dict[str, str]
) -> None:
    base = f"http://127.0.0.1:{bot_env['METRICS_PORT']}"
    chat = 74001
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as resp:
            body = await resp.json()
            assert resp.status == 200 and body["status"] == "ok", body
            assert body["database"] and body["scheduler"] and body["telegram"]
            assert body.get("redis", True)

        # Every Bot API call now takes 1.5 s: the reply is on its way when SIGTERM comes.
        await tta_client.configure(latency_ms=1500)
        await tta_client.send_command(chat, "/help", language_code="kk")
        deadline = time.monotonic() + 20
        while await metric(http, base, "kilt_updates_in_flight") != 1.0:
            assert time.monotonic() < deadline, "the update never started"
            await asyncio.sleep(0.05)
    bot_process.kill(signal.SIGTERM, wait=False)

    reply = await tta_client.wait_for_bot_message(chat, timeout=20)
    assert reply["text"] == html_to_text(Translator().get("kk", "help-text"))
    assert await asyncio.to_thread(bot_process.wait, 30) == 0
    log = bot_process.log_text()
    assert "stopping: 1 update(s) in flight" in log
    assert "still in flight" not in log and "Traceback" not in log
    assert log.rstrip().endswith("bot stopped")


async def test_rows_written_behind_are_stored_by_a_graceful_stop(
    bot_process: BotProcess, tta_client: TTAClient, bot_env: dict[str, str]
) -> None:
    """Production queues log rows (questions without an answer) and writes them in batches;
    handler tests write them inline. Here the real process gets SIGTERM right after replying."""
    chat = 74002
    await tta_client.send_message(chat, "Ертең Алматыда жаңбыр жауа ма?", language_code="kk")
    await tta_client.wait_for_bot_message(chat, timeout=20)
    bot_process.kill(signal.SIGTERM, wait=False)
    assert await asyncio.to_thread(bot_process.wait, 30) == 0
    path = bot_env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        (stored,) = db.execute("SELECT count(*) FROM unanswered_questions").fetchone()
    assert stored == 1
