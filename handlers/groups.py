"""Groups: personal commands are redirected to a private chat; nothing personal is shown."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import Message

from bot.i18n import TextFn

PERSONAL_COMMANDS = (
    "start", "addkey", "mykeys", "reminders", "mydata", "forget", "language", "cancel",
    "broadcast", "stats",
)

async def on_personal_command_in_group(message: Message, bot: Bot, t: TextFn) -> None:
    me = await bot.me()
    await message.reply(t("group-private-only", bot=me.username or ""))


async def cmd_help_in_group(message: Message, t: TextFn) -> None:
    await message.reply(t("help-text"))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP}))
    router.message.register(on_personal_command_in_group, Command(*PERSONAL_COMMANDS))
    router.message.register(cmd_help_in_group, Command("help"))
    return router
