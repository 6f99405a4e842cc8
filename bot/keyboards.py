"""aiogram's InlineKeyboardBuilder without its deep copies.

The stock builder deep-copies the whole markup (every button is a pydantic model) on each
`button()`/`add()` and again in `as_markup()`: a keyboard of n buttons costs n²/2 model copies,
about a fifth of the bot's CPU per update under benchmarks/load.py. Our code never changes a
button after making it, so copying the rows (lists) is enough to keep builders independent.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder as _AiogramBuilder


class InlineKeyboardBuilder(_AiogramBuilder):
    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]
