"""Proof that the test infrastructure works: a real PostgreSQL, the local Telegram with an aiogram
bot making a true round trip through it, fault injection, and the bot-process wrapper."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.concurrency import commit_before_send

from . import postgres as pg_infra
from . import tta as tta_infra
from .postgres import PostgresServer
from .tta import BotProcess, TTAClient, TTAServer, html_to_text, make_token

# the shared fixtures, as a conftest would pull them in
postgres_server = pg_infra.postgres_server
postgres_url = pg_infra.postgres_url
postgres_template = pg_infra.postgres_template
postgres_db = pg_infra.postgres_db
tta_server = tta_infra.tta_server
tta_token = tta_infra.tta_token
tta_client = tta_infra.tta_client


# ----------------------------------------------------------------------------------- postgres
@pytest.mark.postgres
async def test_postgres_select_1(postgres_server: PostgresServer) -> None:
    assert postgres_server.url.startswith("postgresql+asyncpg://")
    engine = create_async_engine(postgres_server.url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("select 1"))).scalar_one() == 1
            version = (await conn.execute(text("show server_version"))).scalar_one()
            assert int(version.split(".")[0]) >= 12
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_postgres_databases_are_isolated(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    named = postgres_server.create_database("kilt_named_db")
    assert named.endswith("/kilt_named_db")
    assert postgres_url != postgres_server.url
    fresh = create_async_engine(postgres_url)
    default = create_async_engine(postgres_server.url)
    try:
        async with fresh.begin() as conn:
            await conn.execute(text("create table t (id int primary key)"))
            await conn.execute(text("insert into t values (1)"))
        async with default.connect() as conn:
            exists = await conn.execute(text("select to_regclass('public.t') is not null"))
            assert exists.scalar_one() is False
    finally:
        await fresh.dispose()
        await default.dispose()
    postgres_server.drop_database("kilt_named_db")


@pytest.mark.postgres
async def test_postgres_template_copies_are_fresh_and_isolated(
    postgres_server: PostgresServer,
) -> None:
    """create_template prepares a database once; each create_database(template=...) is a full,
    independent copy of it, and the template itself stays closed to connections."""

    def prepare(url: str) -> None:
        async def go() -> None:
            engine = create_async_engine(url)
            try:
                async with engine.begin() as conn:
                    await conn.execute(text("create table seeded (id int primary key, v text)"))
                    await conn.execute(text("insert into seeded values (1, 'from template')"))
            finally:
                await engine.dispose()

        # like migrate_sync: its own loop, here in a worker thread (the test's loop is running)
        with concurrent.futures.ThreadPoolExecutor(1) as worker:
            worker.submit(asyncio.run, go()).result()

    template = postgres_server.create_template("kilt_tpl_probe", prepare)
    first = postgres_server.create_database(template=template)
    second = postgres_server.create_database(template=template)
    a, b = create_async_engine(first), create_async_engine(second)
    try:
        async with a.begin() as conn:
            assert (await conn.execute(text("select v from seeded"))).scalar_one() == (
                "from template"
            )
            await conn.execute(text("insert into seeded values (2, 'only in first')"))
        async with b.connect() as conn:
            assert (await conn.execute(text("select count(*) from seeded"))).scalar_one() == 1
    finally:
        await a.dispose()
        await b.dispose()
    blocked = create_async_engine(postgres_server.url_for(template))
    try:
        with pytest.raises(Exception, match="not currently accepting connections"):
            async with blocked.connect():
                pass
    finally:
        await blocked.dispose()
    # dropping the template (it is one) works; nothing can be copied from it afterwards
    for url in (first, second):
        postgres_server.drop_database(url.rsplit("/", 1)[1])
    postgres_server.drop_database(template)
    with pytest.raises(Exception, match="does not exist"):
        postgres_server.create_database(template=template)


@pytest.mark.postgres
async def test_postgres_db_fixture_is_migrated(postgres_db: str) -> None:
    """The per-test database of the [postgres] variants: a copy of the migrated kilt_template."""
    engine = create_async_engine(postgres_db)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("select version_num from alembic_version")))
            assert version.scalar_one()
            users = await conn.execute(text("select count(*) from users"))
            assert users.scalar_one() == 0
    finally:
        await engine.dispose()


def test_postgres_cluster_lives_in_memory_when_it_can(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(pg_infra.TMPDIR_ENV, str(tmp_path))
    assert pg_infra.data_parent() == str(tmp_path)
    monkeypatch.delenv(pg_infra.TMPDIR_ENV)
    monkeypatch.setattr(pg_infra, "SHM_MIN_FREE", 0)
    if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK):
        assert pg_infra.data_parent() == "/dev/shm"
    assert pg_infra.data_parent(in_memory=False) in ("/tmp", None)  # benchmarks: on disk
    monkeypatch.setattr(pg_infra, "SHM_MIN_FREE", 1 << 62)  # no room: on disk
    assert pg_infra.data_parent() in ("/tmp", None)


def test_backends_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import BACKENDS_ENV, selected_backends

    monkeypatch.delenv(BACKENDS_ENV, raising=False)
    assert selected_backends() == ["sqlite", "postgres"]
    monkeypatch.setenv(BACKENDS_ENV, " Postgres ")
    assert selected_backends() == ["postgres"]
    monkeypatch.setenv(BACKENDS_ENV, "postgres,sqlite")
    assert selected_backends() == ["sqlite", "postgres"]
    monkeypatch.setenv(BACKENDS_ENV, "mysql")
    with pytest.raises(pytest.UsageError, match="mysql"):
        selected_backends()


def test_postgres_unavailable_gives_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pg_infra.ENV_URL, raising=False)
    monkeypatch.setattr(pg_infra, "find_pg_bindir", lambda: None)
    ok, reason = pg_infra.postgres_available()
    assert not ok and "initdb" in reason


def test_postgres_rejects_unsafe_names() -> None:
    server = PostgresServer()
    with pytest.raises(ValueError):
        server.create_database('x"; drop database kilt_test; --')


# ----------------------------------------------------------------------------------- tta
def make_bot(base_url: str, token: str) -> Bot:
    return commit_before_send(
        Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    )


@contextlib.asynccontextmanager
async def polling(dp: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    """Run the dispatcher like the real bot does, in the background of the test."""
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        yield
    finally:
        if task.done():
            task.result()  # surface a crash of the polling loop
        with contextlib.suppress(RuntimeError):  # polling already stopped
            await dp.stop_polling()
        await asyncio.wait_for(task, 10)


def echo_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("hi")

    @dp.message(Command("lang"))
    async def lang(message: Message) -> None:
        assert message.from_user is not None
        await message.answer(
            f"lang=<b>{message.from_user.language_code}</b> &amp; more", parse_mode="HTML"
        )

    @dp.message(Command("menu"))
    async def menu(message: Message) -> None:
        kb = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Press", callback_data="press:1")]]
        )
        await message.answer("menu", reply_markup=kb)

    @dp.callback_query(F.data.startswith("press:"))
    async def press(query: CallbackQuery) -> None:
        await query.answer("pressed!")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"pressed {query.data}")

    @dp.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        data = await bot.download(message.document.file_id)
        assert data is not None
        content = data.read()
        await message.answer_document(
            BufferedInputFile(content[::-1], filename="reversed.txt"),
            caption=f"got {message.document.file_name} ({len(content)} bytes)",
        )

    return dp


@pytest.mark.e2e
async def test_tta_start_round_trip(tta_server: TTAServer, tta_client: TTAClient) -> None:
    bot = make_bot(tta_server.base_url, tta_client.bot_token)
    chat = 700_001
    async with polling(echo_dispatcher(), bot):
        sent = await tta_client.send_command(chat, "/start", language_code="kk")
        assert sent["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
        reply = await tta_client.wait_for_bot_message(chat, lambda m: m.get("text") == "hi")
        assert reply["chat"]["id"] == chat and reply["from"]["is_bot"] is True

        after = await tta_client.last_bot_message_id(chat)
        await tta_client.send_command(chat, "/lang", language_code="kk", first_name="Айгүл")
        lang = await tta_client.wait_for_bot_message(chat, after_id=after)
        assert lang["text"] == "lang=kk & more"  # what the user sees of the HTML
        assert lang["html"] == "lang=<b>kk</b> &amp; more"

    assert [m["text"] for m in await tta_client.bot_messages(chat)] == ["hi", "lang=kk & more"]
    assert await tta_client.bot_messages(chat + 1) == []
    sends = await tta_client.calls("sendMessage")
    assert {c["params"]["chat_id"] for c in sends} == {str(chat)}


@pytest.mark.e2e
async def test_tta_callback_edits_message(tta_server: TTAServer, tta_client: TTAClient) -> None:
    bot = make_bot(tta_server.base_url, tta_client.bot_token)
    chat = 700_002
    async with polling(echo_dispatcher(), bot):
        await tta_client.send_command(chat, "/menu")
        menu = await tta_client.wait_for_bot_message(chat, lambda m: m.get("text") == "menu")
        button = menu["reply_markup"]["inline_keyboard"][0][0]
        assert button == {"text": "Press", "callback_data": "press:1"}

        await tta_client.send_callback(menu, button["callback_data"], language_code="ru")
        edited = await tta_client.wait_for_bot_message(
            chat, lambda m: m["message_id"] == menu["message_id"] and m["text"] != "menu"
        )
        assert edited["text"] == "pressed press:1"
        assert "reply_markup" not in edited  # the edit carried no keyboard
        answer = await tta_client.wait_for_call("answerCallbackQuery")
        assert answer["status"] == 200 and answer["params"]["text"] == "pressed!"


@pytest.mark.e2e
async def test_tta_documents_both_ways(tta_server: TTAServer, tta_client: TTAClient) -> None:
    bot = make_bot(tta_server.base_url, tta_client.bot_token)
    chat = 700_003
    async with polling(echo_dispatcher(), bot):
        doc = await tta_client.upload("key.txt", b"secret-bytes")
        assert doc["file_name"] == "key.txt" and doc["file_size"] == 12
        await tta_client.send_message(chat, document=doc, caption="my file")
        reply = await tta_client.wait_for_bot_message(chat, lambda m: "document" in m)
        assert reply["caption"] == "got key.txt (12 bytes)"
        assert reply["document"]["file_name"] == "reversed.txt"
        assert await tta_client.download(reply["document"]["file_id"]) == b"setyb-terces"


@pytest.mark.e2e
async def test_tta_faults_reach_aiogram(tta_server: TTAServer, tta_client: TTAClient) -> None:
    bot = make_bot(tta_server.base_url, tta_client.bot_token)
    blocked, other = 700_004, 700_005
    try:
        await tta_client.configure(blocked=[blocked])
        with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
            await bot.send_message(blocked, "hello")
        await bot.send_message(other, "hello")  # other chats are unaffected

        await tta_client.configure(
            inject=[{"method": "sendMessage", "chat_id": other, "code": 429, "retry_after": 7}]
        )
        with pytest.raises(TelegramRetryAfter) as retry:
            await bot.send_message(other, "again")
        assert retry.value.retry_after == 7
        await bot.send_message(other, "again")  # the injected rule fired once

        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(other, "<b>broken", parse_mode="HTML")

        await tta_client.reset()
        await bot.send_message(blocked, "unblocked")
        assert [m["text"] for m in await tta_client.bot_messages(blocked)] == ["unblocked"]
        stats = await tta_client.stats()
        assert stats == {"sendMessage 200": 1}  # reset() cleared the earlier counters
    finally:
        await bot.session.close()


@pytest.mark.e2e
async def test_tta_injected_update(tta_server: TTAServer, tta_client: TTAClient) -> None:
    bot = make_bot(tta_server.base_url, tta_client.bot_token)
    chat = 700_006
    dp = Dispatcher()
    edits: list[str] = []

    @dp.edited_message()
    async def on_edit(message: Message) -> None:
        edits.append(message.text or "")

    async with polling(dp, bot):
        update = await tta_client.inject_update(
            {
                "edited_message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "edit_date": int(time.time()),
                    "chat": {"id": chat, "type": "private", "first_name": "T"},
                    "from": TTAClient.user(chat),
                    "text": "changed",
                }
            }
        )
        assert update["update_id"] >= 1
        for _ in range(100):
            if edits:
                break
            await asyncio.sleep(0.05)
    assert edits == ["changed"]


def test_tta_unavailable_gives_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tta_infra.shutil, "which", lambda name: None)
    ok, reason = tta_infra.tta_available()
    assert not ok and "node" in reason


def test_html_to_text() -> None:
    assert html_to_text('<b>a</b> &lt;b&gt; <a href="x">l</a> &#1178;&#x4e2d;') == "a <b> l Қ中"


def test_make_token_shape() -> None:
    token = make_token(123)
    bot_id, secret = token.split(":")
    assert bot_id == "123" and len(secret) > 30
    Bot(make_token())  # aiogram accepts it


# ----------------------------------------------------------------------------------- bot process
FAKE_BOT = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: (print("graceful stop"), sys.exit(0)))
print("bot up", os.environ["BOT_TOKEN"], os.getcwd())
print("to stderr", file=sys.stderr)
time.sleep(60)
"""


def test_bot_process_kill_and_restart(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    env = {"BOT_TOKEN": "1:x"}
    with BotProcess(env, cwd=tmp_path, log_path=log, args=[sys.executable, "-c", FAKE_BOT]) as bot:
        assert str(tmp_path) in bot.wait_for_log("bot up 1:x", timeout=20)
        bot.wait_for_log("to stderr", timeout=20)
        assert bot.kill(signal.SIGKILL) == -signal.SIGKILL
        assert not bot.running

        bot.restart()
        assert bot.starts == 2 and bot.running
        bot.wait_for_log("bot up", timeout=20)
        assert bot.stop() == 0  # SIGTERM first: a graceful stop
    text_ = log.read_text()
    assert text_.count("bot up 1:x") == 2 and "graceful stop" in text_
    assert "=== start #2" in text_


def test_bot_process_reports_early_exit(tmp_path: Path) -> None:
    with BotProcess(
        {},
        cwd=tmp_path,
        log_path=tmp_path / "b.log",
        args=[sys.executable, "-c", "raise SystemExit('no config')"],
    ) as bot:
        with pytest.raises(RuntimeError, match="no config"):
            bot.wait_for_log("never", timeout=20)
        assert bot.returncode == 1


def test_bot_process_default_command() -> None:
    bot = BotProcess({"BOT_TOKEN": make_token()})
    assert bot.args == [sys.executable, "-m", "bot", "run"]
    assert bot.cwd == Path(__file__).resolve().parents[2]
    assert bot.log_path is None and bot.log_text() == ""  # no temp file until it starts
