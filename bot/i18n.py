"""Fluent texts from locales/<lang>/*.ftl; Kazakh and Russian, each falling back to the other."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from fluent.runtime import FluentLocalization
from fluent.runtime.fallback import AbstractResourceLoader
from fluent.syntax import FluentParser, ast

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
        loader = ParsedOnce(root)
        self.root = root
        self._l10n: dict[str, FluentLocalization] = {}
        self._ids: dict[str, set[str]] = {}
        # One text function per language: keyboards built from it are cached by its identity.
        self._texts: dict[str, TextFn] = {}
        for lang in LANGUAGES:
            files = sorted(p.name for p in (root / lang).glob("*.ftl"))
            other = "ru" if lang == "kk" else "kk"
            self._l10n[lang] = FluentLocalization([lang, other], files, loader)
            self._ids[lang] = {
                entry.id.name
                for name in files
                for entry in loader.parsed(lang, name).body
                if isinstance(entry, ast.Message)
            }

    def get(self, lang: str, msg_id: str, **args: Any) -> str:
        lang = lang if lang in self._l10n else DEFAULT_LANGUAGE
        if msg_id not in self._ids[lang]:
            logger.warning("missing text %s for %s", msg_id, lang)
        return self._l10n[lang].format_value(msg_id, args)

    def for_lang(self, lang: str) -> TextFn:
        known = self._texts.get(lang)
        if known is not None:
            return known

        def t(msg_id: str, **args: Any) -> str:
            return self.get(lang, msg_id, **args)

        if lang in LANGUAGES:
            self._texts[lang] = t
        return t

    def has(self, lang: str, msg_id: str) -> bool:
        return msg_id in self._ids.get(lang, set())


class ParsedOnce(AbstractResourceLoader):
    """Reads root/<locale>/<file>.ftl as fluent.runtime's FluentResourceLoader does, but parses
    each file once: the message ids and the bundles of both languages (each also the other's
    fallback) share it. Parsing is most of the texts' start-up; spans are not needed to format."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._parser = FluentParser(with_spans=False)
        self._parsed: dict[tuple[str, str], ast.Resource] = {}

    def parsed(self, locale: str, resource_id: str) -> ast.Resource:
        key = (locale, resource_id)
        if key not in self._parsed:
            text = (self.root / locale / resource_id).read_text(encoding="utf-8")
            self._parsed[key] = self._parser.parse(text)
        return self._parsed[key]

    def resources(
        self, locale: str, resource_ids: list[str]
    ) -> Generator[list[ast.Resource], None, None]:
        found = [
            self.parsed(locale, rid) for rid in resource_ids if (self.root / locale / rid).is_file()
        ]
        if found:
            yield found
