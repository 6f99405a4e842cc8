"""`python -m bot ask`: answer questions offline, as in ../shared/CONTRACT.md."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TextIO

from bot.constants import LANGUAGES
from bot.qa.service import QAResult, QAService, build_service

_TAG_RE = re.compile(r"</?(?:b|i|a)(?:\s[^>]*)?>")


def _plain(html: str) -> str:
    """Telegram HTML -> plain text for a terminal."""
    return _TAG_RE.sub("", html).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _render(result: QAResult, as_json: bool) -> str:
    if as_json:
        payload = {
            "topic": result.topic,
            "lang": result.lang,
            "score": result.score,
            "answer": result.answer,
        }
        return json.dumps(payload, ensure_ascii=False)
    head = f"[{result.topic or 'no topic'} · {result.lang} · score {result.score:.3f}]"
    return f"{head}\n{_plain(result.answer)}\n"


def _questions(text: str | None, stdin: TextIO) -> Iterable[str]:
    if text is not None:
        yield text
        return
    for line in stdin:
        if line.strip():
            yield line.strip()


def run_ask(
    text: str | None,
    lang: str | None,
    as_json: bool,
    stdin: TextIO,
    stdout: TextIO,
    service: QAService | None = None,
) -> int:
    """Answer TEXT, or each non-empty stdin line; lang is the asker's chosen language."""
    if lang is not None and lang not in LANGUAGES:
        stdout.write(f"unsupported language {lang!r}: use kk or ru\n")
        return 2
    service = service or build_service()
    for question in _questions(text, stdin):
        stdout.write(_render(service.answer(question, lang), as_json) + "\n")
        stdout.flush()
    return 0
