"""kill -9 while the next prompt is on its way: after a restart the user simply continues."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from tests.e2e.test_keys_e2e import User
from tests.infra.tta import BotProcess, TTAClient

pytestmark = pytest.mark.e2e


@pytest.fixture
def bot_env(bot_env: dict[str, str]) -> dict[str, str]:
    return {**bot_env, "THROTTLE_PER_MINUTE": "600"}


def stored_step(db_url: str) -> str | None:
    path = db_url.split("///", 1)[1]
    with sqlite3.connect(path, timeout=5) as conn:
        row = conn.execute("SELECT state FROM fsm_records WHERE state IS NOT NULL").fetchone()
    return row[0] if row else None


async def wait_for_step(db_url: str, step: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while stored_step(db_url) != step:
        assert time.monotonic() < deadline, f"the bot never stored {step}"
        await asyncio.sleep(0.05)


async def test_kill_between_commit_and_reply_then_continue(
    bot_process: BotProcess, tta_client: TTAClient, bot_env: dict[str, str]
) -> None:
    u = User(tta_client, 73001, "ru")
    greeting = await u.command("/start", u.text("start-greeting"))
    await u.press(greeting, "btn-consent-yes")
    kind_prompt = await u.command("/addkey", u.text("keys-ask-kind"))

    # Every Bot API call now takes 3 s: the holder prompt is still in flight when we kill.
    await tta_client.configure(latency_ms=3000)
    label = u.t.get("ru", "btn-keys-kind-file")
    rows = kind_prompt["reply_markup"]["inline_keyboard"]
    kind_data = next(b["callback_data"] for row in rows for b in row if b["text"] == label)
    await tta_client.send_callback(kind_prompt, kind_data, language_code="ru")
    await wait_for_step(bot_env["DATABASE_URL"], "KeyForm:holder")
    bot_process.kill()  # SIGKILL: no cleanup of any kind
    await tta_client.configure(reset=True)
    bot_process.start()
    bot_process.wait_for_log("bot started", timeout=60)

    # The user taps the button they still see; the bot says the dialog moved on and asks
    # the current question (again, if the first copy made it out before the kill).
    await tta_client.send_callback(kind_prompt, kind_data, language_code="ru")
    step = await u.reply(u.text("keys-ask-holder"))
    step = await u.press(step, "btn-keys-holder-individual", u.text("keys-ask-purpose"))
    step = await u.press(step, "btn-keys-purpose-auth", u.text("keys-ask-issued"))
    step = await u.press(step, "btn-keys-today")
    expiry_data = step["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await tta_client.send_callback(step, expiry_data, language_code="ru")
    await u.reply(u.text("keys-ask-storage")[:20])
    await u.say("сейф дома", u.text("keys-ask-label")[:20])
    summary = await u.say("После сбоя")
    await u.press(summary, "btn-keys-save")
    listing = await u.command("/mykeys", u.text("keys-list-title", count=1))
    assert listing["text"].count("После сбоя") == 1
    answers = await tta_client.calls("answerCallbackQuery")
    assert any(
        (c.get("params") or {}).get("text") == u.t.get("ru", "keys-dialog-moved-on")
        for c in answers
    )
