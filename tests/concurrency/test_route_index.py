"""The route index (bot/routing.py): an update skips routers that cannot match, and every update
still reaches the handler plain aiogram would have chosen."""

from __future__ import annotations

from typing import Any, cast

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import CallbackQuery, Chat, Message, MessageEntity

from bot import app as app_module
from bot.config import Settings
from bot.i18n import Translator
from bot.routing import RouteIndex, index_routes
from handlers import build_routers
from tests.support.telegram import RecordingSession, UpdateFactory

ADMIN = 777


def visited(index: RouteIndex, dp: Dispatcher, update: Any, state: str | None) -> list[str]:
    routes = index.routers_for(update.event_type, update.event, {"raw_state": state})
    return [r.name.removeprefix("handlers.") for r in dp.chain_tail if r in routes and r is not dp]


@pytest.fixture
def tree() -> tuple[Dispatcher, RouteIndex]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token="4242:TEST-token-for-recorded-sessions-only",
        database_url="sqlite+aiosqlite:///unused", admin_ids=[ADMIN],
    )
    dp = Dispatcher()
    dp.include_routers(*build_routers(settings))
    return dp, RouteIndex(dp)


def test_a_question_skips_every_command_and_dialog_router(
    tree: tuple[Dispatcher, RouteIndex],
) -> None:
    dp, index = tree
    who = UpdateFactory(65_000)
    # upload (a pasted private key) and fallback have filters the index cannot read: kept.
    assert visited(index, dp, who.message("как хранить ключ?"), None) == [
        "keys.upload", "questions", "fallback"
    ]
    in_dialog = visited(index, dp, who.message("Мой ключ"), "KeyForm:label")
    assert "keys.add" in in_dialog and "keys.edit" not in in_dialog


def test_a_command_goes_to_its_owner_and_a_button_by_its_prefix(
    tree: tuple[Dispatcher, RouteIndex],
) -> None:
    dp, index = tree
    who = UpdateFactory(65_001)
    mykeys = visited(index, dp, who.message("/mykeys"), None)
    assert "keys.listing" in mykeys and "start" not in mykeys and "keys.add" not in mykeys
    assert "groups" not in mykeys  # the group router filters on the chat type
    in_group = visited(index, dp, who.message("/mykeys", chat=GROUP), None)
    assert "groups" in in_group and not any(name.startswith("keys") for name in in_group)
    card = visited(index, dp, who.callback("k:view:5:0"), None)
    assert card == ["keys.listing", "keys.edit", "keys.renew", "fallback"]
    # Unknown prefixes fold into one signature: they reach the stale-button fallback only.
    assert visited(index, dp, who.callback("zz:1"), None) == ["fallback"]
    assert visited(index, dp, who.callback("forged"), None) == ["fallback"]
    taps = [sig for kind, sig in index._memo if kind == "callback_query"]
    assert sum(sig.prefix not in index.words.callback_prefixes for sig in taps) == 1


async def test_unreadable_filters_keep_their_router(bot: Bot) -> None:
    """A router is skipped only on filters the index understands; anything else may pass."""

    class Form(StatesGroup):
        name = State()

    dp, forms, loose = Dispatcher(), Router(name="forms"), Router(name="loose")
    seen: list[str] = []

    @forms.message(Command("form"))
    async def on_form(message: Message) -> None:
        seen.append("form")

    @forms.message(StateFilter(Form), F.text)
    async def on_name(message: Message) -> None:
        seen.append("name")

    @loose.message(lambda m: (m.text or "").lower().startswith("/form"))
    async def on_loose(message: Message) -> None:
        seen.append("loose")

    dp.include_routers(forms, loose)
    index = index_routes(dp)
    who = UpdateFactory(65_002)
    await dp.feed_update(bot, who.message("/form"))
    await dp.feed_update(bot, who.message("/form@kilt_test_bot"))
    await dp.feed_update(bot, who.message("/FORM"))  # Command is case-sensitive: not "form"
    await dp.feed_update(bot, who.message("Айгерим"))  # no state: only `loose` may match
    assert seen == ["form", "form", "loose"]
    routes = index.routers_for("message", who.message("text").event, {"raw_state": None})
    assert forms not in routes and loose in routes


async def test_a_handler_that_cannot_match_is_not_checked(bot: Bot) -> None:
    """Within a router that is visited, a handler whose known filters cannot pass is skipped
    before its filters run (a Command parses the text, for every handler it guards)."""
    parsed: list[tuple[str, ...]] = []

    class CountingCommand(Command):
        async def __call__(self, message: Message, bot: Bot) -> Any:
            parsed.append(tuple(str(c) for c in self.commands))
            return await super().__call__(message, bot)

    dp, router, seen = Dispatcher(), Router(name="commands"), []

    @router.message(CountingCommand("one"))
    async def on_one(message: Message) -> None:
        seen.append("one")

    @router.message(CountingCommand("two"))
    async def on_two(message: Message) -> None:
        seen.append("two")

    dp.include_router(router)
    index_routes(dp)
    who = UpdateFactory(65_003)
    await dp.feed_update(bot, who.message("/two"))
    await dp.feed_update(bot, who.message("/one"))
    assert seen == ["two", "one"]
    assert parsed == [("two",), ("one",)]  # plain aiogram: one, two, one


class Pick(CallbackData, prefix="pick"):
    action: str
    n: int


async def test_a_press_is_unpacked_once_for_all_its_handlers(
    bot: Bot, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Menu-like buttons: one handler per action, each with its own rule, in several routers.
    The data is unpacked once per press; forged data of the right prefix matches none."""
    unpacked: list[str] = []
    unpack = Pick.unpack.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Pick], value: str) -> Pick:
        unpacked.append(value)
        return cast(Pick, unpack(cls, value))

    monkeypatch.setattr(Pick, "unpack", classmethod(counting))
    dp, first, second, last = Dispatcher(), Router(), Router(), Router()
    seen: list[str] = []

    @first.callback_query(Pick.filter(F.action == "a"))
    async def on_a(query: CallbackQuery, callback_data: Pick) -> None:
        seen.append(f"a{callback_data.n}")

    @second.callback_query(Pick.filter(F.action == "b"))
    async def on_b(query: CallbackQuery, callback_data: Pick) -> None:
        seen.append(f"b{callback_data.n}")

    @second.callback_query(Pick.filter(F.action == "c"))
    async def on_c(query: CallbackQuery, callback_data: Pick) -> None:
        seen.append(f"c{callback_data.n}")

    @last.callback_query()
    async def on_other(query: CallbackQuery) -> None:
        seen.append(f"other {query.data}")

    dp.include_routers(first, second, last)
    index_routes(dp)
    who = UpdateFactory(65_004)
    for data in ("pick:c:7", "pick:c:7", "pick:a:1", "pick:c:x", "pick:c", "nope:c:7"):
        await dp.feed_update(bot, who.callback(data))
    assert seen == ["c7", "c7", "a1", "other pick:c:x", "other pick:c", "other nope:c:7"]
    # Once per press with the prefix (the same data pressed twice: twice), never for others.
    assert unpacked == ["pick:c:7", "pick:c:7", "pick:a:1", "pick:c:x", "pick:c"]


# The same conversation through plain aiogram (no index) and through the indexed dispatcher.
SCRIPT: list[tuple[str, str]] = [
    ("text", "/start"), ("tap", "consent:1"), ("text", "как хранить ключ?"),
    ("tap", "menu:faq"), ("tap", "menu:language"), ("tap", "lang:kk"), ("tap", "lang:ru"),
    ("text", "/addkey"), ("text", "/help"), ("text", "/mykeys"), ("text", "Мой ключ"),
    ("tap", "ak:cancel:"), ("tap", "zz:1"), ("tap", "k:view:notanumber"), ("tap", "k:view:9:0"),
    ("tap", "fb:no-such-topic:1"), ("tap", "tq:1"), ("text", "/stats"), ("text", "/broadcast"),
    ("text", "/unknown"), ("text", "/reminders"), ("text", "/cancel"), ("text", "спасибо"),
    # In a group: personal commands are redirected, a question needs a mention.
    ("group", "/mykeys"), ("group", "/help"), ("group", "как хранить ключ?"),
    ("group", "@kilt_test_bot как хранить ключ?"),
]
# An admin's commands and buttons, then a non-admin's go at the same.
ADMIN_SCRIPT: list[tuple[str, str]] = [
    ("text", "/stats"), ("text", "/learned"), ("text", "/broadcast"), ("tap", "bcm:list"),
    ("tap", "tq:999"), ("text", "/cancel"),
]
GROUP = Chat(id=-100_123, type="supergroup", title="Бухгалтерия")


async def replay(
    dp: Dispatcher, bot: Bot, who: UpdateFactory, script: list[tuple[str, str]] = SCRIPT
) -> list[tuple[str, str, bool]]:
    session = bot.session
    assert isinstance(session, RecordingSession)
    session.clear()
    for kind, value in script:
        if kind == "tap":
            update = who.callback(value)
        elif kind == "group" and value.startswith("@"):
            mention = MessageEntity(type="mention", offset=0, length=value.index(" "))
            update = who.message(value, chat=GROUP, entities=[mention])
        else:
            update = who.message(value, chat=GROUP if kind == "group" else None)
        await dp.feed_update(bot, update)
    return [
        (type(r).__name__, r.text or "", bool(getattr(r, "show_alert", False)))
        for r in session.requests if isinstance(r, SendMessage | AnswerCallbackQuery)
    ]


async def test_replies_are_those_of_plain_aiogram(
    dp: Dispatcher, bot: Bot, monkeypatch: pytest.MonkeyPatch, settings: Settings,
    translator: Translator,
) -> None:
    indexed = await replay(dp, bot, UpdateFactory(65_010))
    # A second dispatcher on the same database, built with the index switched off.
    monkeypatch.setattr(app_module, "index_routes", lambda dp: None)
    plain_dp = app_module.build_dispatcher(
        settings, dp["session_pool"], dp["cipher"], dp["translator"], dp["clock"], qa=dp["qa"],
        broadcasts=dp.get("broadcasts"),
    )
    plain = await replay(plain_dp, bot, UpdateFactory(65_011))
    assert indexed == plain
    for who in (UpdateFactory(ADMIN), UpdateFactory(65_012)):
        assert await replay(dp, bot, who, ADMIN_SCRIPT) == await replay(
            plain_dp, bot, who, ADMIN_SCRIPT
        )
    t = translator.for_lang("ru")
    assert ("SendMessage", t("help-text"), False) in indexed  # /help inside the /addkey dialog
    assert ("AnswerCallbackQuery", t("stale-button"), True) in indexed  # zz:1, k:view:notanumber
