"""An update walks only the routers that could handle it.

aiogram tries every router in order, and in each every handler's filters, until one matches:
a free-text question used to pass through about 20 routers (each pass copies the handler data
and runs the router's filters) before the questions router took it. Most of those routers
could never match, and it shows in four things the update carries: the command a message
starts with (`Command` filters), the prefix of a button's callback data (`CallbackData.filter()`),
the user's FSM state (`StateFilter`, a `State` or a `StatesGroup`) and the chat type
(`F.chat.type == ...` or `.in_(...)` on messages, `F.message.chat.type` on buttons).

`index_routes(dp)` reads those filters once, at start-up, from every handler and from the
router-level filters above it. Per update it reduces the update to that signature (command,
prefix, state, chat type: a bounded set, unknown values fold into one), and computes once per
signature the set of routers whose subtree holds a handler all of whose recognised filters
could pass. A router passes the update on only to the sub-routers in that set: the others are
not called at all (each call copies the handler data), as if aiogram had tried their handlers
in vain. Everything else is untouched: the order of routers and handlers, router-level
filters, inner middlewares (the consent gate), fallbacks. A filter the index does not recognise
(other magic filters, plain functions, negations) counts as "may pass", so a router is skipped
only when aiogram could not have matched it; a router with an outer middleware for the
update's type is never skipped.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from inspect import isclass
from re import Pattern
from typing import Any, Literal, NamedTuple

from aiogram import Router
from aiogram.dispatcher.event.bases import REJECTED, UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.filters.logic import _AndFilter, _OrFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from magic_filter import MagicFilter
from magic_filter.operations import ComparatorOperation, FunctionOperation, GetAttributeOperation
from magic_filter.util import in_op

ROUTE_KEY = "kilt_routes"  # handler data: the routers this update may visit
OTHER = "\x00other"  # a command, prefix or state that no filter names
INDEXED = frozenset({"message", "edited_message", "callback_query"})


class Signature(NamedTuple):
    """What the recognised filters look at: (prefix char, command name), callback prefix,
    FSM state, chat type. Unknown values are OTHER, so the set of signatures stays small."""

    command: tuple[str, str] | None
    prefix: str | None
    state: str | None
    chat: str | None


Need = Callable[[Signature], bool]  # a necessary condition for a filter to pass


@dataclass
class _Vocabulary:
    prefix_chars: set[str] = field(default_factory=set)
    commands: set[str] = field(default_factory=set)
    callback_prefixes: set[str] = field(default_factory=set)
    states: set[str] = field(default_factory=set)
    chats: set[str] = field(default_factory=set)


def _state_names(state: Any) -> list[str | None]:
    if isinstance(state, State):
        return [state.state]  # None for the default (no) state
    if isinstance(state, StatesGroup):
        return list(type(state).__all_states_names__)
    if isclass(state) and issubclass(state, StatesGroup):
        return list(state.__all_states_names__)
    return [state] if state is None or isinstance(state, str) else []


def _state_need(states: tuple[Any, ...], words: _Vocabulary) -> Need:
    """Mirrors StateFilter / State / StatesGroup, which look at the raw state only."""
    names = {n for s in states for n in _state_names(s)}
    if "*" in names:
        return lambda sig: True
    words.states |= {n for n in names if n is not None}
    return lambda sig: sig.state in names


# Where the chat type is, for each indexed update type.
CHAT_PATH = {"message": ("chat", "type"), "edited_message": ("chat", "type"),
             "callback_query": ("message", "chat", "type")}


def _chat_need(magic: MagicFilter, kind: str, words: _Vocabulary) -> Need | None:
    """`F.chat.type == X` or `F.chat.type.in_(S)` (`F.message.chat.type` for buttons)."""
    *path, test = magic._operations
    names = tuple(op.name for op in path if isinstance(op, GetAttributeOperation))
    if len(names) != len(path) or names != CHAT_PATH[kind]:
        return None
    if isinstance(test, ComparatorOperation) and test.comparator is operator.eq:
        allowed = {test.right}
    elif isinstance(test, FunctionOperation) and test.function is in_op and not test.kwargs \
            and len(test.args) == 1 and not isinstance(test.args[0], MagicFilter):
        allowed = set(test.args[0])
    else:
        return None
    if not all(isinstance(a, str) for a in allowed):
        return None
    words.chats |= allowed
    return lambda sig: sig.chat in allowed


def _need(flt: FilterObject, kind: str, words: _Vocabulary) -> Need | None:
    """The necessary condition a filter puts on the signature; None if it is not one we know."""
    if flt.magic is not None:
        return _chat_need(flt.magic, kind, words)
    target = flt.callback
    if isinstance(target, Command):
        if any(isinstance(c, Pattern) for c in target.commands):
            return None
        chars, names = target.prefix, {str(c).casefold() for c in target.commands}
        words.prefix_chars |= set(chars)
        words.commands |= names
        return lambda sig: sig.command is not None and sig.command[0] in chars \
            and sig.command[1] in names
    if isinstance(target, CallbackQueryFilter):
        if target.callback_data.__separator__ != ":":
            return None
        prefix = target.callback_data.__prefix__
        words.callback_prefixes.add(prefix)
        return lambda sig: sig.prefix == prefix
    if isinstance(target, StateFilter):
        return _state_need(tuple(target.states), words)
    if isinstance(target, State | StatesGroup) or isclass(target) and issubclass(
        target, StatesGroup
    ):
        return _state_need((target,), words)
    if isinstance(target, _OrFilter):
        parts = [_need(t, kind, words) for t in target.targets]
        if any(p is None for p in parts):
            return None
        return lambda sig: any(p(sig) for p in parts if p is not None)
    if isinstance(target, _AndFilter):
        known = [p for p in (_need(t, kind, words) for t in target.targets) if p is not None]
        return lambda sig: all(p(sig) for p in known)
    return None


def _needs(filters: list[FilterObject] | None, kind: str, words: _Vocabulary) -> list[Need]:
    return [n for n in (_need(f, kind, words) for f in filters or ()) if n is not None]


@dataclass
class _Handler:
    routers: tuple[Router, ...]  # the handler's router and every router above it
    needs: list[Need]
    handler: HandlerObject


class Route(NamedTuple):
    """Where an update of one signature may go: the routers, and the handlers in them (by id:
    aiogram's handler objects are unhashable dataclasses, and live as long as the router)."""

    routers: frozenset[Router]
    handlers: frozenset[int] | None  # None: not an indexed type, every handler is tried


class RouteIndex:
    """Which routers an update can reach, from its signature; computed once per signature."""

    def __init__(self, root: Router) -> None:
        self.root, self.words = root, _Vocabulary()
        self.handlers: dict[str, list[_Handler]] = {kind: [] for kind in INDEXED}
        self.always: dict[str, frozenset[Router]] = {}  # outer middlewares, unindexed types
        for kind in root.observers:
            self.always[kind] = frozenset(
                r for r in root.chain_tail if _serves(r, kind, outer_only=kind in INDEXED)
            )
        for kind in INDEXED:
            self._collect(root, kind, (), [])
        self._memo: dict[tuple[str, Signature], Route] = {}

    def _collect(
        self, router: Router, kind: str, above: tuple[Router, ...], needs: list[Need]
    ) -> None:
        observer = router.observers[kind]
        path = (*above, router)
        needs = needs + _needs(observer._handler.filters, kind, self.words)
        for handler in observer.handlers:
            self.handlers[kind].append(
                _Handler(path, needs + _needs(handler.filters, kind, self.words), handler)
            )
        for sub in router.sub_routers:
            self._collect(sub, kind, path, needs)

    def signature(self, kind: str, event: Any, data: dict[str, Any]) -> Signature:
        command = prefix = chat = None
        if isinstance(event, Message):
            chat = event.chat.type
            text = event.text or event.caption
            if text and text[0] in self.words.prefix_chars and not text[0].isspace():
                name = text.split(maxsplit=1)[0][1:].partition("@")[0].casefold()
                command = (text[0], name if name in self.words.commands else OTHER)
        elif isinstance(event, CallbackQuery):
            chat = event.message.chat.type if event.message is not None else None
            if event.data:
                head = event.data.split(":", 1)[0]
                prefix = head if head in self.words.callback_prefixes else OTHER
        if chat is not None and chat not in self.words.chats:
            chat = OTHER
        state = data.get("raw_state")
        if state is not None and state not in self.words.states:
            state = OTHER
        return Signature(command, prefix, state, chat)

    def routers_for(self, kind: str, event: Any, data: dict[str, Any]) -> frozenset[Router]:
        return self.route(kind, event, data).routers

    def route(self, kind: str, event: Any, data: dict[str, Any]) -> Route:
        if kind not in INDEXED:
            return Route(self.always.get(kind, frozenset()), None)
        key = (kind, self.signature(kind, event, data))
        found = self._memo.get(key)
        if found is None:
            sig = key[1]
            live = [h for h in self.handlers[kind] if all(n(sig) for n in h.needs)]
            found = self._memo[key] = Route(
                frozenset({r for h in live for r in h.routers} | self.always[kind]),
                frozenset(id(h.handler) for h in live),
            )
        return found


def index_routes(dp: Router) -> RouteIndex:
    """Install the index on `dp` and every router below it; call after all routers are in and
    before run_sync_filters_inline (which wraps the filter objects the index reads)."""
    index = RouteIndex(dp)
    propagate = dp.propagate_event

    async def routed(update_type: str, event: Any, **kwargs: Any) -> Any:
        kwargs[ROUTE_KEY] = index.route(update_type, event, kwargs)
        return await propagate(update_type=update_type, event=event, **kwargs)

    dp.propagate_event = routed  # type: ignore[method-assign]
    for router in dp.chain_tail:
        if router.sub_routers:
            router._propagate_event = _routed_children(router)  # type: ignore[method-assign,assignment]
    for kind in INDEXED:
        for entry in index.handlers[kind]:
            entry.handler.check = _skipped_unless_routed(entry.handler)  # type: ignore[method-assign,assignment]
            for flt in entry.handler.filters or ():
                if isinstance(flt.callback, CallbackQueryFilter):
                    flt.callback = _unpacked_once(flt.callback)
    return index


def _skipped_unless_routed(handler: HandlerObject) -> Callable[..., Awaitable[Any]]:
    """`handler.check`, which first asks the update's route: a handler whose recognised filters
    cannot pass (another command, button prefix, state or chat type) is not matched, as aiogram
    would have found after running its filters (a Command filter parses the text, a
    CallbackData filter builds its model from the data, for every handler it guards)."""
    check = handler.check
    key = id(handler)

    async def checked(*args: Any, **kwargs: Any) -> tuple[bool, dict[str, Any]]:
        route = kwargs.get(ROUTE_KEY)
        if isinstance(route, Route) and route.handlers is not None and key not in route.handlers:
            return False, kwargs
        return await check(*args, **kwargs)

    return checked


# Per CallbackData class: the last button press unpacked and what it gave (None: not its data).
_UNPACKED: dict[type[CallbackData], tuple[CallbackQuery, CallbackData | None]] = {}


def _unpacked_once(flt: CallbackQueryFilter) -> Callable[[Any], Awaitable[Any]]:
    """aiogram's CallbackData filter, unpacking a press's data once for all the handlers of its
    class (menu buttons: one per action, each with its own rule), not once per handler. The
    handlers of one press then share one (never modified) model."""
    cls, rule = flt.callback_data, flt.rule

    async def check(query: Any) -> Literal[False] | dict[str, Any]:
        if not isinstance(query, CallbackQuery) or not query.data:
            return False
        last = _UNPACKED.get(cls)
        if last is not None and last[0] is query:
            unpacked = last[1]
        else:
            try:
                unpacked = cls.unpack(query.data)
            except (TypeError, ValueError):  # ValidationError too: forged or stale data
                unpacked = None
            _UNPACKED[cls] = (query, unpacked)
        if unpacked is None or rule is not None and not rule.resolve(unpacked):
            return False
        return {"callback_data": unpacked}

    return check


def _routed_children(router: Router) -> Callable[..., Awaitable[Any]]:
    """aiogram's `Router._propagate_event` (aiogram 3.x, dispatcher/router.py), except that the
    update goes on only to the sub-routers in its route set (to all when it carries none)."""

    async def propagate_event(
        observer: TelegramEventObserver | None, update_type: str, event: Any, **kwargs: Any
    ) -> Any:
        response = UNHANDLED
        if observer:
            result, data = await observer.check_root_filters(event, **kwargs)
            if not result:
                return UNHANDLED
            kwargs.update(data)
            response = await observer.trigger(event, **kwargs)
            if response is REJECTED:
                return UNHANDLED
            if response is not UNHANDLED:
                return response
        route = kwargs.get(ROUTE_KEY)
        routes = route.routers if isinstance(route, Route) else None
        for sub in router.sub_routers:
            if routes is not None and sub not in routes:
                continue
            response = await sub.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                break
        return response

    return propagate_event


def _serves(router: Router, kind: str, *, outer_only: bool) -> bool:
    """Whether anything below `router` acts on `kind` updates: an outer middleware always may;
    for the unindexed types, any handler too."""
    for r in router.chain_tail:
        observer = r.observers.get(kind)
        if observer is not None and (
            len(observer.outer_middleware) or not outer_only and observer.handlers
        ):
            return True
    return False
