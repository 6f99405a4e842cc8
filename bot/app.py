"""Dispatcher wiring; tests build the same dispatcher with a recording session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.broadcast.engine import BroadcastEngine
from bot.concurrency import UserLockMiddleware, UserLocks
from bot.config import Settings
from bot.context import Clock, utc_now
from bot.dedup import DedupMiddleware, UpdateDedup
from bot.errors import on_error
from bot.fsm_storage import DatabaseStorage
from bot.i18n import LANGUAGES, Translator
from bot.lifecycle import Lifecycle
from bot.metrics import Metrics, ObserveUpdates
from bot.middlewares import MAX_TEXT, ContextMiddleware, ThrottlingMiddleware
from bot.qa.service import QAService, build_service
from bot.routing import index_routes
from handlers import build_routers
from storage.database import SessionPool
from storage.encryption import FieldCipher
from storage.write_behind import WriteBehind

USER_COMMANDS = (
    "start", "help", "language", "addkey", "mykeys", "reminders", "faq", "mydata", "forget",
    "cancel",
)
ADMIN_COMMANDS = ("broadcast", "stats", "learned")


def build_dispatcher(
    settings: Settings,
    pool: SessionPool,
    cipher: FieldCipher,
    translator: Translator,
    clock: Clock = utc_now,
    *,
    qa: QAService | None = None,
    isolation: BaseEventIsolation | None = None,
    broadcasts: BroadcastEngine | None = None,
    dedup: UpdateDedup | None = None,
    metrics: Metrics | None = None,
    lifecycle: Lifecycle | None = None,
    write_behind: WriteBehind | None = None,
) -> Dispatcher:
    """The dispatcher with every router. Long-lived objects (Q&A index, user locks, the one
    broadcast engine, de-duplication, metrics) come from the caller, built once per process
    (bot/runtime.py); tests get in-process defaults and no de-duplication (they replay one
    Update object to play a double tap). Without `broadcasts` the scheduler's next pass (within
    a minute) starts a confirmed broadcast. Without `write_behind`, log rows (last seen,
    unanswered questions, votes) are written inline in the update's transaction."""
    metrics = metrics or Metrics()
    dp = Dispatcher(
        storage=DatabaseStorage(pool, cipher, clock),
        disable_fsm=True,  # ContextMiddleware plays dp.fsm, in the update's session
        settings=settings,
        translator=translator,
        cipher=cipher,
        session_pool=pool,
        clock=clock,
        qa=(qa or build_service()).copy(),  # shared index, this dispatcher's own learned phrasings
        metrics=metrics,
        write_behind=write_behind or WriteBehind(None),
    )
    if broadcasts is not None:
        dp["broadcasts"] = broadcasts
    # Outermost: correlation id, in-flight count (graceful shutdown), update metrics.
    dp.update.outer_middleware(ObserveUpdates(metrics, lifecycle or Lifecycle()))
    if dedup is not None:  # the runtime always passes one; handler tests replay updates
        # A re-delivered update is dropped before it queues for its user's lock.
        dp.update.outer_middleware(DedupMiddleware(dedup, metrics))
    # The per-user lock comes next: waiting updates must not hold pooled connections.
    dp.update.outer_middleware(UserLockMiddleware(isolation or UserLocks()))
    dp.update.outer_middleware(ContextMiddleware(pool, cipher, translator, clock, dp.fsm))
    per_minute = settings.throttle_per_minute
    # An edit costs what a new message costs; over-long texts are refused in the same layer.
    texts = ThrottlingMiddleware(per_minute, max_text=MAX_TEXT)
    dp.message.outer_middleware(texts)
    dp.edited_message.outer_middleware(texts)
    # Taps have their own, larger budget: a brisk /addkey is a dozen taps in a minute.
    dp.callback_query.outer_middleware(ThrottlingMiddleware(2 * per_minute, max(per_minute, 20)))
    dp.errors.register(on_error)
    dp.include_routers(*build_routers(settings))
    index_routes(dp)  # reads the filters: before run_sync_filters_inline wraps them
    run_sync_filters_inline(dp)
    return dp


def run_sync_filters_inline(root: Router) -> None:
    """aiogram runs every synchronous filter (F.text, F.data, ...) through asyncio.to_thread;
    ours are pure and take microseconds, so the thread hop costs far more than the filter."""
    for router in root.chain_tail:
        for observer in router.observers.values():
            for handler in [*observer.handlers, observer._handler]:
                for flt in handler.filters or ():
                    if not flt.awaitable:
                        flt.callback, flt.awaitable = _as_coroutine(flt.callback), True


def _as_coroutine(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def run(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return run


def _commands(translator: Translator, lang: str, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(command=n, description=translator.get(lang, f"cmd-{n}")) for n in names]


async def register_commands(bot: Bot, translator: Translator, admin_ids: list[int]) -> None:
    """Per-language command menus; admin commands only in admins' own chats."""
    default = BotCommandScopeDefault()
    await bot.set_my_commands(_commands(translator, "ru", USER_COMMANDS), scope=default)
    for lang in LANGUAGES:
        await bot.set_my_commands(
            _commands(translator, lang, USER_COMMANDS), scope=default, language_code=lang
        )
    for admin_id in admin_ids:
        scope = BotCommandScopeChat(chat_id=admin_id)
        everything = USER_COMMANDS + ADMIN_COMMANDS
        await bot.set_my_commands(_commands(translator, "ru", everything), scope=scope)
        for lang in LANGUAGES:
            await bot.set_my_commands(
                _commands(translator, lang, everything), scope=scope, language_code=lang
            )
