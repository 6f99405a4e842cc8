"""/broadcast for admins: compose or pick a tip, audience, schedule, preview, confirm, cancel.
Non-admins sending /broadcast or /stats get a polite refusal."""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.broadcast.engine import BroadcastEngine
from bot.config import Settings
from bot.i18n import LANGUAGES, TextFn
from handlers.broadcast import ui
from handlers.broadcast.ui import BcAudience, BcCancel, BcConfirm, BcMenu, BcTip, BcWhen
from handlers.broadcast.ui import BroadcastDialog as S
from handlers.common import reply_to, tap_of
from storage.repositories import Repos


async def cmd_broadcast(message: Message, state: FSMContext, t: TextFn) -> None:
    await state.clear()
    await message.answer(t("broadcast-menu"), reply_markup=ui.menu_keyboard(t))


async def on_menu(query: CallbackQuery, callback_data: BcMenu, state: FSMContext, t: TextFn,
                  lang: str, repos: Repos, settings: Settings) -> None:
    await query.answer()
    if callback_data.action == "compose":
        await state.set_state(S.kk_text)
        await reply_to(query, t("broadcast-ask-kk"))
    elif callback_data.action == "tip":
        await reply_to(query, t("broadcast-tip-choose"), reply_markup=ui.tips_keyboard(lang))
    else:
        items = await repos.broadcasts.list_active()
        text = ui.list_text(t, items, settings.bot_timezone) or t("broadcast-list-empty")
        await reply_to(query, text, reply_markup=ui.cancel_keyboard(t, [b.id for b in items]))


async def on_text(message: Message, state: FSMContext, t: TextFn) -> None:
    """The kk text, then the ru text; /skip leaves a language out (it falls back)."""
    lang = "kk" if await state.get_state() == S.kk_text.state else "ru"
    text = None if (message.text or "").strip() == "/skip" else ui.message_html(message)
    if text is not None and (errors := ui.html_errors(text)):
        await message.answer(t("broadcast-html-invalid", errors=ui.format_errors(errors)))
        return
    await state.update_data({f"text_{lang}": text})
    if lang == "kk":
        await state.set_state(S.ru_text)
        await message.answer(t("broadcast-ask-ru"))
        return
    data = await state.get_data()
    if data.get("text_kk") is None and data.get("text_ru") is None:
        await state.set_state(S.kk_text)
        await message.answer(t("broadcast-need-text"))
        return
    missing = [code for code in LANGUAGES if data.get(f"text_{code}") is None]
    if missing:
        await message.answer(t("broadcast-fallback-warning", missing=missing[0]))
    await state.set_state(None)
    await message.answer(t("broadcast-audience-choose"), reply_markup=ui.audience_keyboard(t))


async def on_tip(query: CallbackQuery, callback_data: BcTip, state: FSMContext, t: TextFn) -> None:
    await query.answer()
    library = ui.tips_library()
    if callback_data.tip not in library:
        await reply_to(query, t("broadcast-tip-unknown"))
        return
    texts: dict[str, Any] = {f"text_{c}": library.text(callback_data.tip, c) for c in LANGUAGES}
    await state.set_state(None)
    await state.update_data({"tip": callback_data.tip, **texts})
    await reply_to(query, t("broadcast-audience-choose"), reply_markup=ui.audience_keyboard(t))


async def on_audience(query: CallbackQuery, callback_data: BcAudience, state: FSMContext,
                      t: TextFn) -> None:
    await query.answer()
    kind = callback_data.kind if callback_data.kind in ui.AUDIENCES else "all"
    await state.update_data(audience=kind, days=None)
    if kind in ui.NEEDS_DAYS:
        await state.set_state(S.days)
        await reply_to(query, t("broadcast-ask-days"))
        return
    await reply_to(query, t("broadcast-when"), reply_markup=ui.when_keyboard(t))


async def on_days(message: Message, state: FSMContext, t: TextFn) -> None:
    days = ui.parse_days(message.text or "")
    if days is None:
        await message.answer(t("broadcast-days-invalid"))
        return
    await state.set_state(None)
    await state.update_data(days=days)
    await message.answer(t("broadcast-when"), reply_markup=ui.when_keyboard(t))


async def on_when(query: CallbackQuery, callback_data: BcWhen, state: FSMContext, t: TextFn,
                  bot: Bot, repos: Repos, settings: Settings, now: datetime) -> None:
    await query.answer()
    if callback_data.later:
        await state.set_state(S.when_time)
        await reply_to(query, t("broadcast-ask-time", tz=settings.bot_timezone))
        return
    await state.update_data(when=None)
    await preview(query.from_user.id, state, t, bot, repos, settings, now)


async def on_time(message: Message, state: FSMContext, t: TextFn, bot: Bot, repos: Repos,
                  settings: Settings, now: datetime) -> None:
    when = ui.parse_local_time(message.text or "", settings.bot_timezone)
    if when is None or when <= now:
        await message.answer(t("broadcast-time-invalid" if when is None else "broadcast-time-past"))
        return
    await state.set_state(None)
    await state.update_data(when=when.isoformat())
    await preview(message.chat.id, state, t, bot, repos, settings, now)


async def preview(chat_id: int, state: FSMContext, t: TextFn, bot: Bot, repos: Repos,
                  settings: Settings, now: datetime) -> None:
    """Each language's text exactly as users get it, then the audience size and a confirm."""
    data = await state.get_data()
    texts = resolve_texts(data)
    if texts is None:
        await bot.send_message(chat_id, t("broadcast-dialog-expired"))
        return
    aud, when = ui.audience_from(data), _when(data)
    count = await repos.broadcasts.count_audience(aud, now, ui.local_date(now, settings))
    if count == 0:
        await bot.send_message(chat_id, t("broadcast-empty-audience"),
                               reply_markup=ui.audience_keyboard(t))
        return
    for code in LANGUAGES:
        await bot.send_message(chat_id, t("broadcast-preview-header", language=code))
        await bot.send_message(chat_id, texts[code])
    text = t("broadcast-confirm", audience=ui.describe(t, aud), count=count,
             when=ui.when_text(t, when, settings.bot_timezone),
             paid="yes" if data.get("paid") else "no")
    markup = ui.confirm_keyboard(t, bool(data.get("paid")))
    await bot.send_message(chat_id, text, reply_markup=markup)


def resolve_texts(data: dict[str, Any]) -> dict[str, str] | None:
    """Both languages' texts, a missing one falling back to the other."""
    kk, ru = data.get("text_kk"), data.get("text_ru")
    if not kk and not ru:
        return None
    return {"kk": str(kk or ru), "ru": str(ru or kk)}


def _when(data: dict[str, Any]) -> datetime | None:
    raw = data.get("when")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


async def on_confirm(query: CallbackQuery, callback_data: BcConfirm, state: FSMContext,
                     t: TextFn, bot: Bot, repos: Repos, settings: Settings, now: datetime,
                     broadcasts: BroadcastEngine | None = None) -> None:
    if callback_data.action == "send" and not await repos.claims.claim(
        repos.claims.key_for("tap", *astuple(tap_of(query, "broadcast-send"))), now
    ):  # a second tap on the same Confirm, even on another instance: one broadcast
        await query.answer(t("broadcast-already-confirmed"))
        return
    await query.answer()
    data = await state.get_data()
    texts = resolve_texts(data)
    if callback_data.action == "abort" or texts is None:
        await state.clear()
        await reply_to(query, t("broadcast-aborted" if texts else "broadcast-dialog-expired"))
        return
    if callback_data.action == "paid":
        await state.update_data(paid=not data.get("paid"))
        await preview(query.from_user.id, state, t, bot, repos, settings, now)
        return
    admin, aud, when = query.from_user.id, ui.audience_from(data), _when(data)
    paid = bool(data.get("paid"))
    broadcast_id = await repos.broadcasts.create(
        admin, texts, aud, when or now, now, paid=paid, progress_chat=admin
    )
    details = {"id": broadcast_id, "audience": aud.to_json(), "tip": data.get("tip"),
               "scheduled_at": when or now, "paid": paid,
               "recipients": await repos.broadcasts.count_audience(
                   aud, now, ui.local_date(now, settings))}
    await repos.broadcasts.audit(admin, "broadcast.create", details, now)
    await state.clear()
    await repos.commit()  # the engine reads the row from its own session
    if when is None:
        if broadcasts is not None:  # else the scheduler's next pass starts it
            broadcasts.start(broadcast_id)
        await reply_to(query, t("broadcast-started", id=broadcast_id, count=details["recipients"]))
    else:
        text = t("broadcast-scheduled", id=broadcast_id,
                 when=ui.when_text(t, when, settings.bot_timezone))
        await reply_to(query, text)


async def on_cancel_one(query: CallbackQuery, callback_data: BcCancel, t: TextFn, repos: Repos,
                        now: datetime) -> None:
    await query.answer()
    ok = await repos.broadcasts.cancel(callback_data.id, now)
    if ok:
        await repos.broadcasts.audit(query.from_user.id, "broadcast.cancel",
                                     {"id": callback_data.id}, now)
    key = "broadcast-cancelled" if ok else "broadcast-cancel-failed"
    await reply_to(query, t(key, id=callback_data.id))


async def refuse(message: Message, t: TextFn) -> None:
    await message.answer(t("admin-only"))


def build_router(settings: Settings) -> Router:
    admins = Router(name=f"{__name__}.admins")
    admins.message.filter(F.chat.type == ChatType.PRIVATE, F.from_user.id.in_(settings.admin_ids))
    admins.callback_query.filter(F.from_user.id.in_(settings.admin_ids))
    admins.message.register(cmd_broadcast, Command("broadcast"))
    admins.message.register(on_text, S.kk_text, F.text)
    admins.message.register(on_text, S.ru_text, F.text)
    admins.message.register(on_days, S.days, F.text)
    admins.message.register(on_time, S.when_time, F.text)
    admins.callback_query.register(on_menu, BcMenu.filter())
    admins.callback_query.register(on_tip, BcTip.filter())
    admins.callback_query.register(on_audience, BcAudience.filter())
    admins.callback_query.register(on_when, BcWhen.filter())
    admins.callback_query.register(on_confirm, BcConfirm.filter())
    admins.callback_query.register(on_cancel_one, BcCancel.filter())
    # After the admin router: whoever reaches this is not an admin.
    refusal = Router(name=f"{__name__}.refusal")
    # Admins' /stats is answered by the questions router, so only non-admins are refused here.
    refusal.message.register(
        refuse, Command("broadcast", "stats"), ~F.from_user.id.in_(settings.admin_ids)
    )
    root = Router(name=__name__)
    root.include_routers(admins, refusal)
    return root
