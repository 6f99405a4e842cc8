"""The cache of parsed texts (bot/i18n.py): texts from it are the texts parsed afresh, an
edited .ftl file is parsed again, and a damaged or unwritable cache only costs the parse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, LOCALES_DIR, Translator
from bot.text_cache import CACHE_DIR


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for lang in LANGUAGES:
        (tmp_path / lang).mkdir()
        for path in (LOCALES_DIR / lang).glob("*.ftl"):
            shutil.copyfile(path, tmp_path / lang / path.name)
    return tmp_path


def every_text(translator: Translator) -> dict[tuple[str, str], str]:
    return {
        (lang, msg_id): translator.get(lang, msg_id, count=2, name="Ә", date="1.1.2027")
        for lang in LANGUAGES
        for msg_id in sorted(translator._ids[lang])  # noqa: SLF001
    }


def caches(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR).glob("ftl-*.pickle"))


def test_texts_from_the_cache_are_the_parsed_texts(root: Path) -> None:
    parsed = every_text(Translator(root))
    assert len(caches(root)) == 1
    assert every_text(Translator(root)) == parsed
    assert len(parsed) > 100


def test_an_edited_file_is_parsed_again(root: Path) -> None:
    Translator(root)
    (old,) = caches(root)
    common = root / "ru" / "common.ftl"
    common.write_text(common.read_text(encoding="utf-8") + "\ncache-probe = свежий текст\n",
                      encoding="utf-8")
    assert Translator(root).get("ru", "cache-probe") == "свежий текст"
    assert caches(root) != [old] and len(caches(root)) == 1  # the stale one is gone


def test_a_damaged_cache_is_ignored_and_rewritten(root: Path) -> None:
    parsed = every_text(Translator(root))
    (cache,) = caches(root)
    cache.write_bytes(b"not a pickle")
    assert every_text(Translator(root)) == parsed
    assert cache.read_bytes() != b"not a pickle"


def test_an_unwritable_cache_directory_only_costs_the_parse(root: Path) -> None:
    (root / CACHE_DIR).write_text("a file where the directory would be", encoding="utf-8")
    assert Translator(root).get("ru", "btn-cancel") == Translator().get("ru", "btn-cancel")
