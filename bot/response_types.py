"""Keeps aiogram's parametrised `Response[...]` models alive for the life of the process.

aiogram parses every Bot API answer with `Response[method.__returning__]`. pydantic caches a
parametrised generic model only in a WeakValueDictionary, and a model class sits in reference
cycles, so each garbage collection may drop it: the next call then builds the model and its
validator again (about 9 ms each, measured with benchmarks/load.py --profile: one call in six
paid it). Holding one strong reference per returned type keeps the cache warm: the bot's
session (bot/telegram_session.py) reads every answer through `response_type`, and aiogram's own
`Response[...]` of an error answer then finds the same model in pydantic's cache.
"""

from __future__ import annotations

from typing import Any

from aiogram.methods import Response

_PINNED: dict[Any, type[Any]] = {}


def response_type(returning: Any) -> type[Any]:
    """`Response[returning]`, built once and kept (a plain dict lookup afterwards: pydantic's
    own generic cache computes a key from the type arguments on every subscription)."""
    found = _PINNED.get(returning)
    if found is None:
        found = _PINNED[returning] = Response[returning]
    return found
