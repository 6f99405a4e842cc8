"""kk and ru define the same messages with the same placeables; plurals work in both."""

from __future__ import annotations

from pathlib import Path

from fluent.syntax import FluentParser, ast
from fluent.syntax.visitor import Visitor

from bot.i18n import LOCALES_DIR, Translator, language_from_telegram


def variables(message: ast.Message) -> set[str]:
    names: set[str] = set()

    class Collect(Visitor):
        def visit_VariableReference(self, node: ast.VariableReference) -> None:
            names.add(node.id.name)

    Collect().visit(message)
    return names


def placeables(folder: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    parser = FluentParser()
    for path in folder.glob("*.ftl"):
        resource = parser.parse(path.read_text(encoding="utf-8"))
        for entry in resource.body:
            assert not isinstance(entry, ast.Junk), f"syntax error in {path}: {entry.content!r}"
            if isinstance(entry, ast.Message):
                out[entry.id.name] = variables(entry)
    return out


def test_same_files_in_both_locales() -> None:
    kk = sorted(p.name for p in (LOCALES_DIR / "kk").iterdir())
    ru = sorted(p.name for p in (LOCALES_DIR / "ru").iterdir())
    assert kk == ru


def test_same_message_ids_and_placeables() -> None:
    kk, ru = placeables(LOCALES_DIR / "kk"), placeables(LOCALES_DIR / "ru")
    assert set(kk) == set(ru), set(kk) ^ set(ru)
    for msg_id in kk:
        assert kk[msg_id] == ru[msg_id], msg_id


def test_every_message_renders_without_errors() -> None:
    translator = Translator()
    for lang in ("kk", "ru"):
        names = placeables(LOCALES_DIR / lang)  # parsed once per language, not per message
        bundles = list(translator._l10n[lang]._bundles())  # noqa: SLF001 - check raw errors
        for msg_id, used in names.items():
            for b in bundles:
                if b.has_message(msg_id):
                    message = b.get_message(msg_id)
                    if message.value is not None:
                        args = {name: 2 for name in used}
                        text, errors = b.format_pattern(message.value, args)
                        assert not errors, (lang, msg_id, errors)
                        assert text.strip()
                    break


def test_russian_plural_forms() -> None:
    t = Translator().for_lang("ru")
    assert "1 ключ," in t("forget-confirm", keys=1)
    assert "3 ключа," in t("forget-confirm", keys=3)
    assert "5 ключей," in t("forget-confirm", keys=5)
    assert "21 ключ," in t("forget-confirm", keys=21)


def test_kazakh_number_agreement() -> None:
    t = Translator().for_lang("kk")
    # Kazakh nouns stay singular after numerals.
    assert "5 кілт," in t("forget-confirm", keys=5)


def test_language_choice_from_telegram() -> None:
    assert language_from_telegram("kk") == "kk"
    assert language_from_telegram("kk-KZ") == "kk"
    assert language_from_telegram("ru") == "ru"
    assert language_from_telegram("en") == "ru"
    assert language_from_telegram(None) == "ru"
