"""What one Bot API call costs on our side, for a typical answer: a Kazakh text of about 500
characters with a four-button keyboard. CPU µs per call, best of 7 repetitions.

- Encoding: aiogram's form (urlencoded when there is no file) against the JSON body of
  bot/telegram_session.py, with a keyboard built once (its prepared form kept) and with one
  made for this message.
- Reading Telegram's answer (the whole sent message, keyboard included): aiogram's
  `check_response` against JsonBodySession's, which drops the keyboard before validation.

    python benchmarks/request_body.py [--calls 3000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.enums import ParseMode  # noqa: E402
from aiogram.methods import SendMessage  # noqa: E402
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup  # noqa: E402

from bot.telegram_session import JsonBodySession  # noqa: E402

TOKEN = "4242:BENCH-token-for-request-bodies"
TEXT = ("ЭЦҚ кілтін жеке флешкада сақтаңыз, құпиясөзді бөлек жазып қойыңыз және оны ешкімге "
        "айтпаңыз. ") * 5


def best_us(encode: object, calls: int) -> float:
    assert callable(encode)
    times = []
    for _ in range(7):
        started = time.process_time()
        for _ in range(calls):
            encode()
        times.append((time.process_time() - started) / calls * 1e6)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    markup = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=f"Кілтті жаңарту {n}", callback_data=f"key:renew:{n}")
         for n in range(row, row + 2)] for row in (0, 2)])
    method = SendMessage(chat_id=5_000_000_001, text=TEXT, reply_markup=markup)
    default = DefaultBotProperties(parse_mode=ParseMode.HTML)
    form_session, json_session = AiohttpSession(), JsonBodySession()
    form_bot = Bot(TOKEN, session=form_session, default=default)
    json_bot = Bot(TOKEN, session=json_session, default=default)

    def form_body() -> bytes:  # what aiohttp sends for aiogram's FormData without files
        return bytes(form_session.build_form_data(form_bot, method)()._value)

    def json_body() -> bytes:  # the same keyboard object each time: a `built_once` keyboard
        body = json_session.json_body(json_bot, method)
        assert body is not None
        return body

    def json_body_fresh_keyboard() -> bytes:  # a keyboard made for this message (key cards)
        json_session._prepared.clear()
        body = json_session.json_body(json_bot, method)
        assert body is not None
        return body

    # Telegram's answer: the message as sent, with its keyboard.
    answer = json.dumps({"ok": True, "result": {
        "message_id": 4242, "date": 1_764_000_000, "text": TEXT,
        "from": {"id": 4242, "is_bot": True, "first_name": "Kilt", "username": "kilt_bot"},
        "chat": {"id": 5_000_000_001, "type": "private", "first_name": "Әлия"},
        "reply_markup": markup.model_dump(exclude_none=True)}}, ensure_ascii=False)

    def aiogram_read() -> object:
        return AiohttpSession.check_response(json_session, json_bot, method, 200, answer)

    def our_read() -> object:
        return json_session.check_response(json_bot, method, 200, answer)

    form_us, json_us = best_us(form_body, args.calls), best_us(json_body, args.calls)
    fresh_us = best_us(json_body_fresh_keyboard, args.calls)
    read_us, ours_us = best_us(aiogram_read, args.calls), best_us(our_read, args.calls)
    print(f"aiogram's form: {form_us:.0f} µs per call, {len(form_body()):,} bytes")
    print(f"JSON body: {json_us:.0f} µs per call, {len(json_body()):,} bytes "
          f"({form_us / json_us:.1f}x cheaper); with a keyboard not built once {fresh_us:.0f} µs")
    print(f"reading the answer: aiogram {read_us:.0f} µs, without the keyboard {ours_us:.0f} µs "
          f"({read_us / ours_us:.1f}x cheaper)")
    print(json.dumps({"form_us": round(form_us, 1), "json_us": round(json_us, 1),
                      "ratio": round(form_us / json_us, 2),
                      "json_fresh_keyboard_us": round(fresh_us, 1), "form_bytes": len(form_body()),
                      "json_bytes": len(json_body()), "read_aiogram_us": round(read_us, 1),
                      "read_ours_us": round(ours_us, 1),
                      "read_ratio": round(read_us / ours_us, 2), "calls": args.calls}))


if __name__ == "__main__":
    main()
