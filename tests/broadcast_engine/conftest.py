"""Fixtures for broadcast engine tests: users in the database and a fast engine."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest
from aiogram import Bot

from bot.broadcast.engine import BroadcastEngine
from bot.config import Settings
from bot.delivery import LocalPacer
from bot.i18n import Translator
from storage.database import SessionPool
from storage.dto import KeyDraft
from storage.encryption import FieldCipher
from storage.repositories import Repos
from tests.broadcast_engine.helpers import VirtualTime
from tests.conftest import FakeClock

MakeUsers = Callable[..., Awaitable[list[int]]]


@pytest.fixture
def make_users(pool: SessionPool, cipher: FieldCipher, clock: FakeClock) -> MakeUsers:
    async def make(
        tg_ids: list[int], lang: str = "ru", *, consent: bool = True, holder: str | None = None,
        expires_in: int | None = None, **settings: object,
    ) -> list[int]:
        ids = []
        async with pool() as session:
            repos = Repos.build(session, cipher)
            for tg in tg_ids:
                user = await repos.users.create(tg, lang, "Asia/Almaty", clock.now, consent)
                if settings:
                    await repos.users.update_settings(user.id, **settings)
                if holder is not None or expires_in is not None:
                    expires = date(2026, 3, 2) + timedelta(days=expires_in or 200)
                    draft = KeyDraft(kind="file", purpose="auth", expires_on=expires,
                                     label="k", holder=holder or "individual")
                    await repos.keys.add(user.id, draft, clock.now)
                ids.append(user.id)
            await session.commit()
        return ids

    return make


@pytest.fixture
def vtime() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def engine(
    bot: Bot, pool: SessionPool, cipher: FieldCipher, translator: Translator,
    settings: Settings, clock: FakeClock, vtime: VirtualTime,
) -> BroadcastEngine:
    pacer = LocalPacer(global_rps=25, clock=vtime, sleep=vtime.sleep)
    return BroadcastEngine(bot, pool, cipher, translator, settings, clock, pacer,
                           progress_every=3600)
