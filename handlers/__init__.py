"""The feature routers, in the order they must be tried (the dispatcher includes them directly:
each level of routers costs every update a pass through aiogram's propagation)."""

from __future__ import annotations

from aiogram import Router

from bot.config import Settings
from handlers import (
    broadcast,
    edits,
    fallback,
    groups,
    keys,
    language,
    membership,
    privacy,
    questions,
    reminders,
    start,
    teach,
)


def build_routers(settings: Settings) -> list[Router]:
    return [
        groups.build_router(),
        membership.build_router(),  # my_chat_member: blocked / unblocked, nothing else
        edits.build_router(),  # edited_message only: secrets added by an edit, fresh answers
        start.build_router(),
        language.build_router(),
        privacy.build_router(),
        *keys.build_routers(),  # early: deletes private keys sent in any state
        broadcast.build_router(settings),  # admins' /broadcast dialog, refusal for others
        teach.build_router(settings),  # admins' /stats and /learned: teach the matcher
        # Feature routers (admin, keys, reminders, …) are added here, one line each.
        reminders.build_router(),
        questions.build_router(settings),  # free text is a question: after every dialog
        fallback.build_router(),  # last: catches what no feature claimed
    ]
