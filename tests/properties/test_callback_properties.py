"""Property-based tests: forged or stale callback data never crashes a handler."""

from __future__ import annotations

import logging
import random

import pytest
from aiogram import Bot, Dispatcher
from aiogram.filters.callback_data import CallbackData
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import bot.app  # noqa: F401  - imports every router, so every CallbackData class is defined
from bot.i18n import Translator
from tests.keys_flow.flow import Chat
from tests.support.telegram import RecordingSession, UpdateFactory


def all_callback_classes() -> list[type[CallbackData]]:
    found: list[type[CallbackData]] = []
    todo = list(CallbackData.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return sorted(found, key=lambda c: c.__prefix__)


CLASSES = all_callback_classes()
PREFIXES = sorted({c.__prefix__ for c in CLASSES})
PART = st.one_of(st.text(max_size=12), st.integers().map(str),
                 st.sampled_from(["", "0", "-1", "True", "None", "kk", "ru", "save", "back"]))
FORGED = st.tuples(st.sampled_from(PREFIXES), st.lists(PART, max_size=5)).map(
    lambda pair: ":".join([pair[0], *pair[1]]))


def test_classes_found() -> None:
    assert len(CLASSES) >= 10 and "ak" in PREFIXES and "menu" in PREFIXES


@settings(max_examples=200, deadline=None)
@given(cls=st.sampled_from(CLASSES), data=st.one_of(FORGED, st.text(max_size=64)))
def test_unpack_fails_only_with_value_errors(cls: type[CallbackData], data: str) -> None:
    try:
        unpacked = cls.unpack(data)
    except (ValueError, TypeError, ValidationError):
        return
    # Whatever unpacks packs back into data that unpacks to the same thing.
    assert cls.unpack(unpacked.pack()) == unpacked


def forged_batch(seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    alphabet = "ab:01-_ kкү.\u202e"
    batch = []
    for _ in range(count):
        parts = ["".join(rnd.choices(alphabet, k=rnd.randint(0, 6)))
                 for _ in range(rnd.randint(0, 4))]
        batch.append(":".join([rnd.choice(PREFIXES), *parts])[:64])
    return batch


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_forged_callbacks_through_dispatcher(
    dp: Dispatcher, bot: Bot, session: RecordingSession, translator: Translator, lang: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chat = Chat(dp, bot, session, UpdateFactory(4001, lang), translator, lang)
    await chat.consent()
    await chat.send("/addkey")  # some buttons only matter inside a dialog
    caplog.set_level(logging.ERROR)
    for data in forged_batch(seed=len(lang), count=80):
        await chat.press_data(data)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[0].getMessage()
