"""What aiogram's object post-init costs, before and after bot.model_init in the same run.

    python benchmarks/model_init.py

Validates a text message update, a button press (its message carries a keyboard) and the
answer to a sendMessage, as long polling and every send do; CPU time per object, best of seven
repetitions. Prints each figure before and after `settle_bot_context_init()`, and their ratio.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram.methods import Response  # noqa: E402
from aiogram.types import Message, Update  # noqa: E402

from bot.model_init import settle_bot_context_init  # noqa: E402

PERSON = {"id": 42, "is_bot": False, "first_name": "Айгүл", "language_code": "kk"}
CHAT = {"id": 42, "type": "private", "first_name": "Айгүл"}
BOT = {"id": 7, "is_bot": True, "first_name": "Kilt", "username": "kilt_bot"}
MESSAGE = {"update_id": 1, "message": {
    "message_id": 5, "date": 1_700_000_000, "chat": CHAT, "from": PERSON,
    "text": "эцп кілтінің мерзімін қалай ұзартамын",
}}
BUTTONS = {"inline_keyboard": [[{"text": f"Тақырып {i}", "callback_data": f"faq:{i}"}]
                               for i in range(4)]}
PRESS = {"update_id": 2, "callback_query": {
    "id": "77", "from": PERSON, "chat_instance": "1", "data": "faq:2",
    "message": {"message_id": 6, "date": 1_700_000_000, "chat": CHAT, "from": BOT,
                "text": "Жиі қойылатын сұрақтар", "reply_markup": BUTTONS},
}}
ANSWER = {"ok": True, "result": {
    "message_id": 7, "date": 1_700_000_000, "chat": CHAT, "from": BOT,
    "text": "ЭЦҚ кілтін мерзімі біткенше ұзартыңыз. " * 8,
}}
CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "message update": (Update, MESSAGE),
    "button press": (Update, PRESS),
    "send answer": (Response[Message], ANSWER),
}
ROUNDS, REPEATS = 5000, 7


def best_us(validate: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(ROUNDS):
            validate()
        best = min(best, (time.process_time() - started) / ROUNDS * 1e6)
    return best


def measure() -> dict[str, float]:
    context = {"bot": object()}
    return {name: best_us(lambda model=model, raw=raw: model.model_validate(raw, context=context))
            for name, (model, raw) in CASES.items()}


def main() -> None:
    before = measure()
    changed = settle_bot_context_init()
    after = measure()
    for name in CASES:
        print(f"{name}: {before[name]:.1f} µs before, {after[name]:.1f} µs after "
              f"({after[name] / before[name]:.2f}x)")
    print(json.dumps({"classes_changed": changed, "before_us": before, "after_us": after}))


if __name__ == "__main__":
    main()
