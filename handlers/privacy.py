"""/mydata (export everything, decrypted) and /forget (delete everything, after a confirm)."""

from __future__ import annotations

import json
from dataclasses import asdict

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import TextFn
from bot.keyboards import InlineKeyboardBuilder, built_once
from handlers.common import reply_to
from storage.dto import UserDTO
from storage.repositories import Repos
from storage.users import export_rows
from storage.write_behind import WriteBehind


class ForgetCallback(CallbackData, prefix="forget"):
    confirm: bool


async def build_export(repos: Repos, user: UserDTO) -> dict[str, object]:
    """Everything stored about the user, decrypted, as JSON-ready values."""
    profile = asdict(user)
    keys = [asdict(k) for k in await repos.keys.list_for_user(user.id)]
    history = await repos.keys.history(user.id)
    for key in keys:
        key["renewals"] = history.get(int(key["id"]), [])
    return {"profile": profile, "keys": keys, **await export_rows(repos.session, user.id)}


async def cmd_mydata(message: Message, user: UserDTO | None, repos: Repos, t: TextFn) -> None:
    if user is None:
        await message.answer(t("mydata-none"))
        return
    data = await build_export(repos, user)
    payload = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    await message.answer_document(
        BufferedInputFile(payload, filename=t("mydata-filename")), caption=t("mydata-caption")
    )


async def cmd_forget(message: Message, user: UserDTO | None, repos: Repos, t: TextFn) -> None:
    if user is None:
        await message.answer(t("forget-nothing"))
        return
    keys = await repos.keys.count_for_user(user.id)
    await message.answer(t("forget-confirm", keys=keys), reply_markup=forget_keyboard(t))


@built_once
def forget_keyboard(t: TextFn) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn-forget-yes"), callback_data=ForgetCallback(confirm=True))
    kb.button(text=t("btn-forget-no"), callback_data=ForgetCallback(confirm=False))
    return kb.as_markup()


async def on_forget_confirmed(
    query: CallbackQuery, user: UserDTO | None, repos: Repos, t: TextFn,
    write_behind: WriteBehind,
) -> None:
    await query.answer()
    if user is None:  # a second press after everything is already gone
        await reply_to(query, t("forget-nothing"))
        return
    await repos.users.delete_everything(user.id, query.from_user.id)
    # Queued log rows of the user (last seen) go too; queued questions and votes have no user.
    write_behind.drop_owner(user.id)
    await reply_to(query, t("forget-done"))


async def on_forget_cancelled(query: CallbackQuery, t: TextFn) -> None:
    await query.answer()
    await reply_to(query, t("forget-kept"))


def build_router() -> Router:
    # Not behind the consent gate: someone who never agreed gets a plain "nothing stored".
    router = Router(name=__name__)
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_mydata, Command("mydata"))
    router.message.register(cmd_forget, Command("forget"))
    router.callback_query.register(on_forget_confirmed, ForgetCallback.filter(F.confirm))
    router.callback_query.register(on_forget_cancelled, ForgetCallback.filter(~F.confirm))
    return router
