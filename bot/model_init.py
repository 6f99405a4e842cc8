"""One step, not five, when aiogram builds a Telegram object: who it belongs to (its bot).

Every aiogram type (an Update, its Message, Chat and User, the answer to each send, each
button) derives from `BotContextController`, whose `model_post_init` stores the validation
context's bot in the private attribute `_bot`. Pydantic wraps that method once more at every
subclass level that inherits a private attribute (Message sits four levels down): each wrapper
first runs `init_private_attributes`, which imports a helper inside the function and resolves
`_bot`'s (absent) default, then calls the next wrapper (pydantic issue #13420: private attributes
with defaults are resolved in Python). About 17 such objects are validated per update
(`python benchmarks/load.py --transport null --profile`); `python benchmarks/model_init.py`
prints the cost of an update and of a send's answer with and without this.

`settle_bot_context_init()` gives each of those classes one method doing what the chain does:
`__pydantic_private__` becomes `{"_bot": <the context's bot or None>}` (kept when it exists, as
`init_private_attributes` keeps it). Only a class whose chain is exactly pydantic's wrappers
around aiogram's method, and whose only private attribute is `_bot`, is changed: a class with a
post-init of its own, or a version of aiogram or pydantic built differently, keeps its chain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from aiogram.client.context_controller import BotContextController
from pydantic import BaseModel
from pydantic._internal import _model_construction

_PRIVATE = ("_bot",)


def _bot_context_post_init(self: BaseModel, context: Any, /) -> None:
    bot = context.get("bot") if context else None
    private = getattr(self, "__pydantic_private__", None)
    if private is None:
        object.__setattr__(self, "__pydantic_private__", {"_bot": bot})
    else:
        private["_bot"] = bot


def _subclasses(cls: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _is_plain_chain(method: Callable[..., Any], aiogram_method: Callable[..., Any]) -> bool:
    """Only pydantic's private-attribute wrappers (each with `__wrapped__`) down to aiogram's."""
    wrapper = _model_construction.init_private_attributes  # the wrappers are defined beside it
    while method is not aiogram_method:
        inner = getattr(method, "__wrapped__", None)
        code = getattr(method, "__code__", None)
        if inner is None or code is None or code.co_name != "wrapped_model_post_init" or (
            code.co_filename != wrapper.__code__.co_filename
        ):
            return False
        method = inner
    return True


def settle_bot_context_init() -> int:
    """Give every aiogram type whose post-init is the plain chain the one-step method; returns
    how many classes were changed. Call once at start-up, after aiogram's types are imported
    (`Response[...]`, made later, is no Telegram object: its `result` is, and is covered)."""
    own = BotContextController.__dict__["model_post_init"]
    aiogram_method = getattr(own, "__wrapped__", own)
    changed = 0
    for cls in _subclasses(BotContextController):
        method = cls.__dict__.get("model_post_init")
        if method is None or method is _bot_context_post_init:
            continue
        if tuple(cls.__private_attributes__) != _PRIVATE:
            continue
        if _is_plain_chain(method, aiogram_method):
            setattr(cls, "model_post_init", _bot_context_post_init)  # noqa: B010
            changed += 1
    return changed
