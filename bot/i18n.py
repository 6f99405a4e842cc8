"""Fluent texts from locales/<lang>/*.ftl; Kazakh and Russian, each falling back to the other."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from fluent.runtime import FluentLocalization
from fluent.runtime.fallback import AbstractResourceLoader
from fluent.syntax import FluentParser, ast

from bot.constants import LANGUAGES
from bot.text_cache import CACHE_DIR, parser_stamp, read_cache, write_cache

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
        files_of: dict[str, list[str]] = {
            lang: sorted(p.name for p in (root / lang).glob("*.ftl")) for lang in LANGUAGES
        }
        loader.parse_all(files_of)
        for lang, files in files_of.items():
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
    fallback) share it. Parsing is most of the texts' start-up (about 0.1 s of CPU for both
    languages); spans are not needed to format. `parse_all` keeps what it parsed in a cache
    file named by a hash of the files' text and of the parser and Python versions; reading it
    back (pickle) takes a fifth of the time. The cache lives beside the texts it was made from
    (the same trust as the code next to it); a file that cannot be read or written is ignored."""

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

    def parse_all(self, files_of: dict[str, list[str]]) -> None:
        """Parse these files of each language, or take them from the cache when it matches."""
        texts = {(lang, name): (self.root / lang / name).read_text(encoding="utf-8")
                 for lang, names in files_of.items() for name in names}
        digest = hashlib.blake2b(parser_stamp(), digest_size=16)
        for (lang, name), text in sorted(texts.items()):
            data = text.encode("utf-8")
            digest.update(f"{lang}/{name}:{len(data)}:".encode())
            digest.update(data)
        path = self.root / CACHE_DIR / f"ftl-{digest.hexdigest()}.pickle"
        cached = read_cache(path)
        if cached is not None and cached.keys() == texts.keys():
            self._parsed.update(cached)
            return
        for key, text in texts.items():
            self._parsed[key] = self._parser.parse(text)
        write_cache(path, {key: self._parsed[key] for key in texts})

    def resources(
        self, locale: str, resource_ids: list[str]
    ) -> Generator[list[ast.Resource], None, None]:
        found = [
            self.parsed(locale, rid) for rid in resource_ids if (self.root / locale / rid).is_file()
        ]
        if found:
            yield found
