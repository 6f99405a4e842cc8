"""What every background job gets: the long-lived objects built once in bot/runtime.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.broadcast.engine import BroadcastEngine
from bot.config import Settings
from bot.context import Clock
from bot.delivery import Pacer
from bot.i18n import Translator
from bot.lifecycle import Lifecycle
from bot.metrics import Metrics
from storage.database import SessionPool
from storage.encryption import FieldCipher


@dataclass(frozen=True)
class JobContext:
    """Everything a background job needs; jobs open their own sessions.

    `pacer` is the bot's one pacer (every job that sends shares it) and `broadcasts` the one
    broadcast engine the admin dialog also uses.
    """

    bot: Bot
    pool: SessionPool
    cipher: FieldCipher
    translator: Translator
    settings: Settings
    clock: Clock
    pacer: Pacer
    broadcasts: BroadcastEngine
    # The process's metrics (reminders/broadcast counters) and shutdown hooks
    # (`ctx.lifecycle.on_shutdown.append(release_claims)`); fresh ones in tests.
    metrics: Metrics = field(default_factory=Metrics)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)


Registrar = Callable[[AsyncIOScheduler, JobContext], None]
