"""Commands are registered per language and admin commands only in admins' chats."""

from __future__ import annotations

from aiogram import Bot
from aiogram.methods import SetMyCommands
from aiogram.types import BotCommandScopeChat

from bot.app import ADMIN_COMMANDS, USER_COMMANDS, register_commands
from bot.i18n import Translator
from bot.texts import split_for_telegram
from tests.support.telegram import RecordingSession


async def test_commands_in_both_languages_and_admin_scope(
    bot: Bot, session: RecordingSession, translator: Translator
) -> None:
    await register_commands(bot, translator, [777])
    calls = session.sent(SetMyCommands)
    by_lang = {
        (c.language_code, type(c.scope).__name__): [x.command for x in c.commands] for c in calls
    }
    assert by_lang[("kk", "BotCommandScopeDefault")] == list(USER_COMMANDS)
    assert by_lang[("ru", "BotCommandScopeDefault")] == list(USER_COMMANDS)
    kk = next(c for c in calls if c.language_code == "kk" and c.scope.type == "default")
    assert kk.commands[0].description == translator.get("kk", "cmd-start")
    admin = [c for c in calls if isinstance(c.scope, BotCommandScopeChat)]
    assert admin and all(c.scope.chat_id == 777 for c in admin)
    assert all(set(ADMIN_COMMANDS) <= {x.command for x in c.commands} for c in admin)
    public = [c for c in calls if not isinstance(c.scope, BotCommandScopeChat)]
    assert all(not set(ADMIN_COMMANDS) & {x.command for x in c.commands} for c in public)


def test_split_keeps_every_character_within_limit() -> None:
    text = "\n".join(f"🔑 Ключ номер {i}: истекает через {i} дней" for i in range(400))
    parts = split_for_telegram(text)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert split_for_telegram("short") == ["short"]
    assert all(len(p) <= 10 for p in split_for_telegram("x" * 35, limit=10))
