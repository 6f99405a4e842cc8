"""The bot's own membership in a private chat (my_chat_member): a user who blocks the bot
gets nothing more at once (reminders and broadcasts skip blocked users); one who unblocks it
is welcomed back."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from bot.i18n import TextFn
from storage.dto import UserDTO
from storage.repositories import Repos


async def on_blocked(
    event: ChatMemberUpdated, repos: Repos, user: UserDTO | None, now: datetime
) -> None:
    if user is not None:  # someone who never agreed to storage has nothing to mark
        await repos.users.mark_blocked(user.id, now)


async def on_unblocked(
    event: ChatMemberUpdated, bot: Bot, repos: Repos, user: UserDTO | None, t: TextFn,
    now: datetime,
) -> None:
    if user is None:
        return  # a newcomer: the /start that Telegram sends next greets them
    await repos.users.touch(user.id, now)  # clears the blocked marker
    await bot.send_message(event.chat.id, t("membership-welcome-back"))


def build_router() -> Router:
    router = Router(name=__name__)
    router.my_chat_member.filter(F.chat.type == ChatType.PRIVATE)
    router.my_chat_member.register(on_blocked, ChatMemberUpdatedFilter(KICKED))
    router.my_chat_member.register(on_unblocked, ChatMemberUpdatedFilter(KICKED >> MEMBER))
    return router
