"""Helpers for engine tests: users and keys straight through the repositories, a fast pacer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from aiogram import Bot

from bot.delivery import LocalPacer
from bot.i18n import Translator
from bot.reminders.engine import ReminderEngine
from bot.reminders.hooks import on_key_saved
from storage.database import SessionPool
from storage.dto import KeyDraft, KeyDTO, UserDTO
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.conftest import FakeClock


@dataclass
class FakeSleep:
    """The pacer's clock and sleep: sleeps are recorded and move the clock instead of waiting,
    so 429 pauses cost no test time (and a waiting pacer never spins on a real clock)."""

    calls: list[float] = field(default_factory=list)
    now: float = 0.0

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += max(seconds, 0.0)

    def clock(self) -> float:
        return self.now


@dataclass
class World:
    pool: SessionPool
    cipher: FieldCipher
    clock: FakeClock

    async def user(self, tg_id: int, lang: str = "ru", **settings: object) -> UserDTO:
        async with self.pool() as session:
            repos = Repos.build(session, self.cipher)
            user = await repos.users.create(tg_id, lang, "Asia/Almaty", self.clock.now, True)
            if settings:
                await repos.users.update_settings(user.id, **settings)
            await session.commit()
            fresh = await repos.users.get(user.id)
        assert fresh is not None
        return fresh

    async def key(
        self, user: UserDTO, expires_on: date, label: str = "Ключ", *, added: bool = False
    ) -> KeyDTO:
        async with self.pool() as session:
            repos = Repos.build(session, self.cipher)
            draft = KeyDraft(kind="file", purpose="personal", expires_on=expires_on, label=label)
            key = await repos.keys.add(user.id, draft, self.clock.now)
            await on_key_saved(repos, user, key, self.clock.now, added=added)
            await session.commit()
        return key

    async def statuses(self, user: UserDTO) -> list[tuple[str, int, int | None, str]]:
        async with self.pool() as session:
            rows = await Repos.build(session, self.cipher).reminders.statuses(user.id)
        return [(k, s, key, st) for k, s, key, st, _ in rows]

    def today(self, days: int = 0) -> date:
        local = self.clock.now + timedelta(hours=5)  # Asia/Almaty is UTC+5
        return local.date() + timedelta(days=days)


@pytest.fixture
def world(pool: SessionPool, cipher: FieldCipher, clock: FakeClock) -> World:
    return World(pool, cipher, clock)


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def engine(
    bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator, clock: FakeClock,
    fake_sleep: FakeSleep,
) -> ReminderEngine:
    pacer = LocalPacer(10_000.0, 0.0, clock=fake_sleep.clock, sleep=fake_sleep)
    return ReminderEngine(bot, pool, cipher, translator, clock, pacer,
                          timeout=timedelta(minutes=10))
