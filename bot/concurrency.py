"""One user's updates one at a time, in order; the update's writes committed before any reply.

Two pieces, both independent of how many processes serve the bot:

* `UserLockMiddleware` is the first outer middleware: it takes a per-user lock from a
  `BaseEventIsolation` (aiogram's interface: in-process here, Redis or PostgreSQL advisory locks
  when several instances share one bot) *before* a database session is opened, so N waiting
  updates never hold N pooled connections.
* `CommitBeforeSend` is a Bot API request middleware: when a handler calls Telegram while its
  update's transaction is open, that transaction is committed first. What the user sees therefore
  never runs ahead of what is stored, and no transaction (or SQLite write lock) is held across a
  Telegram call. A reply lost after the commit is repaired by the user's next tap ("the dialog
  moved on — here is the current step").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject, User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
logger = logging.getLogger("bot.concurrency")


class UserLocks(BaseEventIsolation):
    """In-process FIFO lock per key; unused locks are dropped (aiogram's Simple one never is)."""

    def __init__(self) -> None:
        self._locks: dict[StorageKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:  # asyncio.Lock wakes waiters in arrival order
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def held(self) -> int:
        """How many keys are locked or awaited (for tests and metrics)."""
        return len(self._locks)

    async def close(self) -> None:
        self._locks.clear()


class SharedLocks(BaseEventIsolation):
    """Several instances: this process's FIFO lock first, then a shared one (aiogram's
    `RedisEventIsolation`). The local lock keeps arrival order within an instance and leaves one
    waiter per user and instance polling Redis; the shared lock excludes the other instances."""

    def __init__(self, local: BaseEventIsolation, shared: BaseEventIsolation) -> None:
        self.local, self.shared = local, shared

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        from redis.exceptions import LockNotOwnedError

        async with self.local.lock(key):
            try:
                async with self.shared.lock(key):
                    yield
            except LockNotOwnedError:
                # The handler outlived the lock's expiry (another instance may have taken it):
                # the update's work is done, so say so in the log rather than fail the update.
                logger.warning("a user lock expired before its update finished")

    async def close(self) -> None:
        await self.local.close()
        await self.shared.close()


def user_key(bot: Bot, user: User) -> StorageKey:
    """One lock per person, whatever chat the update comes from."""
    return StorageKey(bot_id=bot.id, chat_id=user.id, user_id=user.id, destiny="user-lock")


class UserLockMiddleware(BaseMiddleware):
    """Serialises each user's updates; different users stay concurrent."""

    def __init__(self, isolation: BaseEventIsolation) -> None:
        self.isolation = isolation

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        async with self.isolation.lock(user_key(data["bot"], user)):
            return await handler(event, data)


# The session of the update being handled, and the task that owns it: a task started from a
# handler inherits the context but must never commit the handler's transaction.
_update_session: ContextVar[tuple[AsyncSession, asyncio.Task[Any] | None] | None] = ContextVar(
    "update_session", default=None
)


@asynccontextmanager
async def update_transaction(session: AsyncSession) -> AsyncGenerator[None, None]:
    """Marks `session` as the current update's, for CommitBeforeSend."""
    token = _update_session.set((session, asyncio.current_task()))
    try:
        yield
    finally:
        _update_session.reset(token)


class CommitBeforeSend(BaseRequestMiddleware):
    """Commits the calling update's open transaction before the request goes to Telegram."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        current = _update_session.get()
        if current is not None:
            session, owner = current
            if owner is asyncio.current_task() and session.in_transaction():
                await session.commit()
        return await make_request(bot, method)


def commit_before_send(bot: Bot) -> Bot:
    """`bot`, whose calls to Telegram first commit the calling update's transaction: every bot
    that serves updates is made through this (bot/runtime.py make_bot, the tests' bots).
    Idempotent."""
    if not any(isinstance(m, CommitBeforeSend) for m in bot.session.middleware):
        bot.session.middleware(CommitBeforeSend())
    return bot
