"""aiogram's InlineKeyboardBuilder without its deep copies.

The stock builder deep-copies the whole markup (every button is a pydantic model) on each
`button()`/`add()` and again in `as_markup()`: a keyboard of n buttons costs n²/2 model copies,
about a fifth of the bot's CPU per update under benchmarks/load.py. Our code never changes a
button after making it, so copying the rows (lists) is enough to keep builders independent.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import ParamSpec, TypeVar

from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder as _AiogramBuilder

P = ParamSpec("P")
R = TypeVar("R")


class InlineKeyboardBuilder(_AiogramBuilder):
    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]


def built_once(fn: Callable[P, R]) -> Callable[P, R]:
    """A keyboard that depends only on its (hashable) arguments is built once per arguments:
    a text function `t` is one object per language (Translator.for_lang), button texts and
    callback data are strings. Nothing changes a markup after it is built, so one markup object
    may go out in any number of messages. Bounded, so odd arguments cannot grow it."""
    return lru_cache(maxsize=512)(fn)  # type: ignore[return-value]
