"""The database path of one update: a read-only update ends with the one commit before its
reply (no second, empty one, and on SQLite no driver commit or rollback at all); a dialog step
that changes the stored state has it committed before the reply leaves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.dispatcher.middlewares.user_context import EVENT_CONTEXT_KEY, EventContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import DisabledEventIsolation, MemoryStorage, SimpleEventIsolation
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import User
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from bot.concurrency import CommitBeforeSend, commit_before_send
from bot.config import Settings
from bot.fsm_storage import DatabaseStorage
from bot.i18n import Translator
from bot.middlewares import ContextMiddleware
from bot.runtime import make_bot as make_running_bot
from handlers.keys.ui import AddCb
from storage import sqlite_inline
from storage.database import SessionPool, watch_reads
from storage.encryption import FieldCipher
from storage.repositories import Repos
from storage.write_behind import WriteBehind
from tests.concurrency.test_user_order import _consent_data, prompt_message
from tests.conftest import FakeClock
from tests.support.telegram import RecordingSession, UpdateFactory, make_bot


@contextmanager
def recorded(pool: SessionPool) -> Iterator[dict[str, list[Any]]]:
    """Statements, connection-level commits and ORM commits while the block runs."""
    seen: dict[str, list[Any]] = {"sql": [], "commit": [], "orm_commit": []}
    engine = pool.kw["bind"].sync_engine

    def sql(*args: Any) -> None:
        seen["sql"].append(args[2])

    def commit(conn: Any) -> None:
        seen["commit"].append(conn)

    def orm_commit(session: Session) -> None:
        seen["orm_commit"].append(session)

    listeners: list[tuple[Any, str, Any]] = [
        (engine, "before_cursor_execute", sql), (engine, "commit", commit),
        (Session, "after_commit", orm_commit),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield seen
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)


async def test_a_read_only_update_commits_once(
    dp: Dispatcher, bot: Bot, session: RecordingSession, pool: SessionPool,
    cipher: FieldCipher, clock: FakeClock, translator: Translator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On PostgreSQL one commit, before the reply; on SQLite the update's reads go to the
    engine's reader (storage/database.py), so its session never begins: no connection of the
    pool, no commit at all. Either way the stored user was read: the reply is in their stored
    language, not in their Telegram one."""
    who = UpdateFactory(64_300, "ru")
    async with pool() as s:
        await Repos.build(s, cipher).users.create(who.user.id, "kk", "Asia/Almaty", clock(), True)
        await s.commit()
    await dp.feed_update(bot, who.message("/help"))  # warm: middlewares installed
    driver_calls: list[str] = []
    for name in ("commit", "rollback"):
        original = getattr(sqlite_inline.InlineConnection, name)

        async def counted(self: Any, _name: str = name, _original: Any = original) -> None:
            driver_calls.append(_name)
            await _original(self)

        monkeypatch.setattr(sqlite_inline.InlineConnection, name, counted)
    session.clear()
    with recorded(pool) as seen:
        await dp.feed_update(bot, who.message("/help"))
    assert session.last_text().startswith(translator.get("kk", "help-text")[:20])
    assert all(s.lstrip().startswith("SELECT") for s in seen["sql"])
    if pool.kw["bind"].dialect.name == "sqlite":
        assert seen["sql"] == [] and seen["orm_commit"] == [] and seen["commit"] == []
        assert driver_calls == []
    else:
        # The reply's commit ended the transaction; the update's end found nothing to commit.
        assert seen["sql"] and len(seen["orm_commit"]) == 1 and len(seen["commit"]) == 1
    assert any(isinstance(m, CommitBeforeSend) for m in bot.session.middleware)


async def test_a_changed_state_is_committed_before_the_reply(
    dp: Dispatcher, bot: Bot, session: RecordingSession, pool: SessionPool,
) -> None:
    """An UPDATE of the stored step (not only the first INSERT) is visible to another
    connection when the prompt of the next step goes out."""
    seen: list[list[str | None]] = []
    original = session.make_request

    async def recording(bot_: Bot, method: Any, timeout: Any = None) -> Any:
        if isinstance(method, SendMessage | EditMessageText):  # the next step's prompt
            async with pool() as s:  # another connection sees only committed rows
                rows = await s.execute(text("SELECT state FROM fsm_records"))
                seen.append([r[0] for r in rows])
        return await original(bot_, method, timeout)

    consent = await _consent_data(dp, bot, session)
    who = UpdateFactory(64_301)
    await dp.feed_update(bot, who.message("/start"))
    await dp.feed_update(bot, who.callback(consent))
    await dp.feed_update(bot, who.message("/addkey"))
    session.make_request = recording  # type: ignore[method-assign]
    press = AddCb(action="kind", value="file").pack()
    await dp.feed_update(bot, who.callback(press, prompt_message(who)))
    assert seen, "the step sent nothing"
    assert all(states == ["KeyForm:holder"] for states in seen), seen


async def test_the_user_and_the_state_are_read_in_one_statement(
    dp: Dispatcher, bot: Bot, session: RecordingSession, pool: SessionPool,
    cipher: FieldCipher, clock: FakeClock,
) -> None:
    """ContextMiddleware reads the dialog state aiogram is about to read with the user row,
    in one statement (one round trip on PostgreSQL); aiogram's read and the handler's then hit
    the cache."""
    who = UpdateFactory(64_302)
    async with pool() as s:
        await Repos.build(s, cipher).users.create(who.user.id, "ru", "Asia/Almaty", clock(), True)
        await s.commit()
    await dp.feed_update(bot, who.message("/help"))  # warm: middlewares installed
    seen: list[str] = []
    engine = pool.kw["bind"].sync_engine

    def sql(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", sql)
    unwatch = watch_reads(pool.kw["bind"], seen.append)  # SQLite: the engine's reader
    try:
        session.clear()
        await dp.feed_update(bot, who.message("/cancel"))  # reads the state twice
    finally:
        event.remove(engine, "before_cursor_execute", sql)
        unwatch()
    assert session.sent()
    users = [statement for statement in seen if "JOIN users" in statement]
    states = [statement for statement in seen if "fsm_records" in statement]
    assert len(users) == 1 and states == users


async def test_no_prefetch_when_aiogram_locks_before_reading_the_state(
    pool: SessionPool, cipher: FieldCipher, translator: Translator, clock: FakeClock,
) -> None:
    """aiogram reads the state under its own lock when it has one (or from another storage):
    nothing is read before, and aiogram's middleware still hands the handler its state."""
    bot = make_bot()
    storage = DatabaseStorage(pool, cipher, clock)
    locked = FSMContextMiddleware(storage, SimpleEventIsolation())
    assert not ContextMiddleware(pool, cipher, translator, clock, locked).prefetch
    unlocked = FSMContextMiddleware(storage, DisabledEventIsolation())
    assert ContextMiddleware(pool, cipher, translator, clock, unlocked).prefetch
    elsewhere = FSMContextMiddleware(MemoryStorage(), DisabledEventIsolation())
    middleware = ContextMiddleware(pool, cipher, translator, clock, elsewhere)
    assert not middleware.prefetch
    person = User(id=77_001, is_bot=False, first_name="A")
    await elsewhere.storage.set_state(StorageKey(bot.id, person.id, person.id), "KeyForm:kind")
    seen: dict[str, Any] = {}

    async def handler(event: Any, data: dict[str, Any]) -> None:
        seen.update(data)

    await middleware(handler, object(), {  # type: ignore[arg-type]
        "bot": bot, "event_from_user": person, "write_behind": WriteBehind(None),
        EVENT_CONTEXT_KEY: EventContext(chat=None, user=person, thread_id=None),
    })
    assert seen["raw_state"] == "KeyForm:kind" and seen["fsm_storage"] is elsewhere.storage
    assert seen["user"] is None and seen["lang"] in ("kk", "ru")


async def test_the_running_bot_commits_before_it_sends(settings: Settings) -> None:
    """`python -m bot run` makes its bot with bot/runtime.py make_bot: the hook is on it (no
    middleware adds it later), and making the bot twice over does not stack a second one."""
    bot = make_running_bot(settings)

    def hooks() -> int:
        return sum(isinstance(m, CommitBeforeSend) for m in bot.session.middleware)

    assert hooks() == 1
    assert commit_before_send(bot) is bot
    assert hooks() == 1
    await bot.session.close()
