"""Fluent texts from locales/<lang>/*.ftl; Kazakh and Russian, each falling back to the other."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fluent.runtime import FluentLocalization, FluentResourceLoader

from bot.constants import LANGUAGES

DEFAULT_LANGUAGE = "ru"
LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"

logger = logging.getLogger(__name__)

TextFn = Callable[..., str]


def language_from_telegram(language_code: str | None) -> str:
    """kk → Kazakh; anything else (ru, en, none…) → Russian, the lingua franca of the rest."""
    return "kk" if (language_code or "").lower().startswith("kk") else "ru"


class Translator:
    """`translator.get("kk", "start-greeting", name=...)` or `translator.for_lang("ru")(...)`."""

    def __init__(self, root: Path = LOCALES_DIR) -> None:
        loader = FluentResourceLoader(str(root / "{locale}"))
        self.root = root
        self._l10n: dict[str, FluentLocalization] = {}
        self._ids: dict[str, set[str]] = {}
        for lang in LANGUAGES:
            files = sorted(p.name for p in (root / lang).glob("*.ftl"))
            other = "ru" if lang == "kk" else "kk"
            self._l10n[lang] = FluentLocalization([lang, other], files, loader)
            self._ids[lang] = message_ids(root / lang)

    def get(self, lang: str, msg_id: str, **args: Any) -> str:
        lang = lang if lang in self._l10n else DEFAULT_LANGUAGE
        if msg_id not in self._ids[lang]:
            logger.warning("missing text %s for %s", msg_id, lang)
        return self._l10n[lang].format_value(msg_id, args)

    def for_lang(self, lang: str) -> TextFn:
        def t(msg_id: str, **args: Any) -> str:
            return self.get(lang, msg_id, **args)

        return t

    def has(self, lang: str, msg_id: str) -> bool:
        return msg_id in self._ids.get(lang, set())


def message_ids(folder: Path) -> set[str]:
    """All message ids defined in the .ftl files of one locale folder."""
    from fluent.syntax import FluentParser, ast

    ids: set[str] = set()
    parser = FluentParser()
    for path in folder.glob("*.ftl"):
        for entry in parser.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(entry, ast.Message):
                ids.add(entry.id.name)
    return ids
