"""Outer middlewares: database + user + language per update, throttling with input limits."""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.middlewares.user_context import EVENT_CONTEXT_KEY
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot.concurrency import CommitBeforeSend, install_request_middleware, update_transaction
from bot.context import Clock, current_repos
from bot.fsm_storage import DatabaseStorage, storage_key
from bot.i18n import Translator, language_from_telegram
from bot.keys.secrets import looks_like_private_key_text
from bot.response_types import PinResponseTypes
from storage.database import SessionPool, open_session
from storage.encryption import FieldCipher
from storage.repositories import Repos

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
TOUCH_EVERY = timedelta(minutes=10)
MAX_TEXT = 2000


class ContextMiddleware(BaseMiddleware):
    """Opens one session per update and puts repos, user, lang and t into handler data.

    With `fsm` (the dispatcher's FSM middleware, next in the chain), the dialog state it is
    about to read is fetched together with the user row: one greenlet hop instead of two."""

    def __init__(
        self, pool: SessionPool, cipher: FieldCipher, translator: Translator, clock: Clock,
        fsm: FSMContextMiddleware | None = None,
    ) -> None:
        self.pool, self.cipher, self.translator, self.clock = pool, cipher, translator, clock
        self._ready: weakref.WeakSet[object] = weakref.WeakSet()  # bot sessions set up
        # Only when the state lives in our database (the read then hits FsmRepo's cache in the
        # update's session) and aiogram takes no lock of its own before reading it (the state
        # must be read under the lock; ours, UserLockMiddleware, is already held here).
        self.fsm = fsm if fsm is not None and isinstance(fsm.storage, DatabaseStorage) and (
            isinstance(fsm.events_isolation, DisabledEventIsolation)
        ) else None

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: User | None = data.get("event_from_user")
        now = self.clock()
        if data["bot"].session not in self._ready:
            for kind in (CommitBeforeSend, PinResponseTypes):
                install_request_middleware(data["bot"], kind)
            self._ready.add(data["bot"].session)
        async with open_session(self.pool) as session, update_transaction(session):
            repos = Repos.build(session, self.cipher)
            user = await repos.user_and_state(tg_user.id, self._fsm_key(data)) if tg_user else None
            if user is not None and user.blocked_at:  # at once: reminders skip blocked users
                await repos.users.touch(user.id, now)
            elif user is not None and now - user.last_seen_at > TOUCH_EVERY:
                await repos.users.note_seen(user.id, now, data["write_behind"])
            lang = user.language if user else language_from_telegram(
                tg_user.language_code if tg_user else None
            )
            data.update(
                repos=repos, user=user, lang=lang, now=now,
                t=self.translator.for_lang(lang),
            )
            token = current_repos.set(repos)
            try:
                result = await handler(event, data)
                if session.in_transaction():  # else nothing since the last commit: no-op
                    await session.commit()
                return result
            finally:
                current_repos.reset(token)


    def _fsm_key(self, data: dict[str, Any]) -> str | None:
        """The key of the state aiogram's FSM middleware reads next, resolved by that very
        middleware (same strategy, chat, thread, business connection); None: no prefetch."""
        if self.fsm is None or EVENT_CONTEXT_KEY not in data:
            return None
        context = self.fsm.resolve_event_context(data["bot"], data)
        return None if context is None else storage_key(context.key)


class ThrottlingMiddleware(BaseMiddleware):
    """A token bucket per user: `per_minute` refill, `burst` at once. An excess message gets
    one notice, then silence; an excess button press is always answered (with the notice),
    because Telegram shows a spinner on the button until the bot answers.

    With `max_text`, a message that passed the bucket and whose text is longer is refused
    politely instead of being processed or stored (one middleware layer for both checks)."""

    def __init__(
        self, per_minute: int, burst: int | None = None,
        clock: Callable[[], float] = time.monotonic, *, max_text: int | None = None,
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else max(per_minute // 3, 5))
        self.clock = clock
        self.max_text = max_text
        self.buckets: dict[int, tuple[float, float, bool]] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or self.rate <= 0:
            return await self._limit_text(handler, event, data)
        now = self.clock()
        tokens, last, warned = self.buckets.get(user.id, (self.capacity, now, False))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self.buckets[user.id] = (tokens - 1, now, False)
            if len(self.buckets) > 50_000:  # bounded memory: drop the full (idle) buckets
                self.buckets = {k: v for k, v in self.buckets.items() if v[0] < self.capacity}
            return await self._limit_text(handler, event, data)
        self.buckets[user.id] = (tokens, now, True)
        if isinstance(event, CallbackQuery):
            with suppress(TelegramBadRequest):  # a query too old to answer: nothing spins
                await event.answer(data["t"]("throttled"))
        elif isinstance(event, Message) and not warned:
            await event.answer(data["t"]("throttled"))
        return None


    async def _limit_text(
        self, handler: Handler, event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        limit = self.max_text
        if (
            limit is not None
            and isinstance(event, Message)
            and event.text
            and len(event.text) > limit
            # A pasted private key must reach the handler that deletes it and warns.
            and not looks_like_private_key_text(event.text)
        ):
            await event.answer(data["t"]("too-long", length=len(event.text), limit=limit))
            return None
        return await handler(event, data)
