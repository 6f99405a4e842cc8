"""One pacer per process: built in bot/runtime.py only, and every sending job gets that one."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram import Bot

from bot.broadcast.engine import BroadcastEngine
from bot.config import Settings
from bot.delivery import LocalPacer
from bot.i18n import Translator
from bot.job_context import JobContext
from bot.reminders.engine import CLAIM_USERS, ReminderEngine, claim_batch_users
from bot.scheduler import build_scheduler
from storage.database import SessionPool
from storage.encryption import FieldCipher
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[2]


def test_pacers_are_built_only_at_start_up() -> None:
    """No module builds its own pacer (a second one would double the bot's rate)."""
    builders = []
    for package in ("bot", "handlers", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "LocalPacer"):
                    builders.append(str(path.relative_to(ROOT)))
    assert builders == ["bot/runtime.py"]


def test_every_sending_job_shares_the_context_pacer(
    bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    settings: Settings, clock: FakeClock,
) -> None:
    pacer = LocalPacer(4.0)
    broadcasts = BroadcastEngine(bot, pool, cipher, translator, settings, clock, pacer)
    ctx = JobContext(bot, pool, cipher, translator, settings, clock, pacer, broadcasts)
    jobs = {job.id: job for job in build_scheduler(ctx).get_jobs()}
    scan = jobs["reminder-scan"].func
    assert isinstance(scan.__self__, ReminderEngine)
    assert scan.__self__.sender.pacer is pacer
    assert jobs["broadcast-resume"].func.__self__ is broadcasts and broadcasts.pacer is pacer
    assert jobs["weekly-tip"].args[0] is ctx
    # Reminder claims are sized from the shared rate (a quarter of the budget), capped so
    # several instances share a scan: 4 msg/s would allow 300 users, a claim takes 64.
    assert scan.__self__.batch_users == CLAIM_USERS == 64
    assert claim_batch_users(0.5, timedelta(minutes=10)) == int(0.5 * 600 / 8)


def test_send_rps_setting_and_its_old_name(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).send_rps == 25.0
    monkeypatch.setenv("BROADCAST_RPS", "12")
    assert Settings(_env_file=None).send_rps == 12.0
    monkeypatch.setenv("SEND_RPS", "20")
    assert Settings(_env_file=None).send_rps == 20.0
    monkeypatch.setenv("SEND_RPS", "0")
    with pytest.raises(ValueError):
        Settings(_env_file=None)


def test_claim_lease_setting_reaches_reminders(
    bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    settings: Settings, clock: FakeClock,
) -> None:
    """CLAIM_LEASE_SECONDS: how long a dead instance's claims hold (README "Production")."""
    leased = settings.model_copy(update={"claim_lease_seconds": 15.0})
    pacer = LocalPacer(4.0)
    broadcasts = BroadcastEngine(bot, pool, cipher, translator, leased, clock, pacer)
    ctx = JobContext(bot, pool, cipher, translator, leased, clock, pacer, broadcasts)
    jobs = {job.id: job for job in build_scheduler(ctx).get_jobs()}
    engine = jobs["reminder-scan"].func.__self__
    assert engine.timeout == timedelta(seconds=15)
    assert engine.sender.claim_budget == 7.5  # never sends on a claim older than half of it
    assert leased.claim_lease(timedelta(minutes=2)) == timedelta(seconds=15)  # broadcasts
    # Unset: the defaults (reminders 30 scans within 20 s..10 min, broadcasts 2 min).
    assert settings.claim_lease(timedelta(minutes=2)) == timedelta(minutes=2)


def test_claim_lease_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).claim_lease_seconds is None
    monkeypatch.setenv("CLAIM_LEASE_SECONDS", "")
    assert Settings(_env_file=None).claim_lease_seconds is None
    monkeypatch.setenv("CLAIM_LEASE_SECONDS", "30")
    assert Settings(_env_file=None).claim_lease_seconds == 30.0
    monkeypatch.setenv("CLAIM_LEASE_SECONDS", "0")
    with pytest.raises(ValueError):
        Settings(_env_file=None)
