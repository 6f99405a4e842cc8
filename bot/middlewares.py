"""Outer middlewares: database + user + language per update, throttling with input limits."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.middlewares.user_context import EVENT_CONTEXT_KEY
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot.concurrency import update_transaction
from bot.context import Clock, current_repos
from bot.fsm_storage import DatabaseStorage, storage_key
from bot.i18n import Translator, language_from_telegram
from bot.keys.secrets import looks_like_private_key_text
from storage.database import SessionPool, open_session
from storage.encryption import FieldCipher
from storage.repositories import Repos

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
TOUCH_EVERY = timedelta(minutes=10)
MAX_TEXT = 2000


class ContextMiddleware(BaseMiddleware):
    """Opens one session per update and puts repos, user, lang and t into handler data.

    It also plays the dispatcher's FSM middleware (`fsm`, which the dispatcher then leaves out
    of its chain): when the state lives in our database and aiogram takes no lock of its own
    (ours, UserLockMiddleware, is already held here: the state is read under it), the state is
    fetched together with the user row, one statement instead of two, and the update's FSM
    context is resolved once. Otherwise `fsm` runs as aiogram runs it."""

    def __init__(
        self, pool: SessionPool, cipher: FieldCipher, translator: Translator, clock: Clock,
        fsm: FSMContextMiddleware,
    ) -> None:
        self.pool, self.cipher, self.translator, self.clock = pool, cipher, translator, clock
        self.fsm = fsm
        self.prefetch = isinstance(fsm.storage, DatabaseStorage) and (
            isinstance(fsm.events_isolation, DisabledEventIsolation)
        )

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: User | None = data.get("event_from_user")
        now = self.clock()
        state = self._fsm_context(data)
        async with open_session(self.pool) as session, update_transaction(session):
            repos = Repos.build(session, self.cipher)
            user = await repos.user_and_state(
                tg_user.id, None if state is None else storage_key(state.key)
            ) if tg_user else None
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
                if not self.prefetch:
                    result = await self.fsm(handler, event, data)
                else:  # what aiogram's FSM middleware does, with the state already fetched
                    data["fsm_storage"] = self.fsm.storage
                    if state is not None:
                        data.update(state=state, raw_state=await state.get_state())
                    result = await handler(event, data)
                if session.in_transaction():  # else nothing since the last commit: no-op
                    await session.commit()
                return result
            finally:
                current_repos.reset(token)

    def _fsm_context(self, data: dict[str, Any]) -> FSMContext | None:
        """The update's FSM context, resolved as aiogram's FSM middleware resolves it (same
        strategy, chat, thread, business connection); None: no state to prefetch."""
        if not self.prefetch or EVENT_CONTEXT_KEY not in data:
            return None
        return self.fsm.resolve_event_context(data["bot"], data)


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
