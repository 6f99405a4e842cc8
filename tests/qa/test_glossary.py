"""Every Kazakh text follows docs/glossary.md: no known wrong forms, calques or bare Russian labels.

Examples and keywords of the knowledge base are exempt: they imitate what people type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KK = ROOT / "locales" / "kk"
RU = ROOT / "locales" / "ru"

# (rule, pattern, a wrong sample it must catch, a right sample it must let through)
KK_RULES: list[tuple[str, str, str, str]] = [
    ("бұлттық ЭЦҚ, not бұлтты", r"бұлтты\b", "бұлтты ЭЦҚ", "бұлттық ЭЦҚ"),
    ("1414 те (the number ends in төрт)", r"1414\s+(да|де|та)\b", "ХҚО мен 1414 да", "1414 те"),
    ("one form: ХҚО", r"ХҚКО|\bХКО\b|\bЦОН", "ХҚКО-дан алдыңыз ба", "ХҚО-да алдыңыз ба"),
    ("ҰКО, not НУЦ", r"\bНУЦ", "НУЦ кабинеті", "ҰКО кабинеті"),
    ("ЭЦҚ, not ЭЦП or ЭЦК", r"\bЭЦП\b|\bЭЦК\b", "ЭЦП алу", "ЭЦҚ алу"),
    ("eGov Mobile takes back-vowel suffixes", r"eGov Mobile-(ге|де|ден|ді|дің|дегі)\b",
     "eGov Mobile-ге тіркелу", "eGov Mobile-ға тіркелу"),
    ("NCALayer takes front-vowel suffixes", r"NCALayer-(ға|да|дан|ды|дың|сыз)\b",
     "NCALayer-ды жаңарту", "NCALayer-ді жаңарту"),
    ("құпиясөз is one word", r"құпия сөз", "құпия сөзді ұмыттым", "құпиясөзді ұмыттым"),
    ("құпиясөз, not пароль", r"[Пп]арол(?!ь\.txt)", "паролді ауыстыру", "«пароль.txt» файлы"),
    ("жеке куәлік, not удостоверение", r"[Уу]достоверени|\bудик", "удостоверениедегі кілт",
     "жеке куәліктегі кілт"),
    ("ЖСН/БСН, not ИИН/БИН", r"\b(ИИН|БИН)\b", "ИИН енгізіңіз", "ЖСН енгізіңіз"),
    ("АЕК, ӘҚБтК, ЖК, ЖШС", r"\b(МРП|КоАП|ИП|ТОО)\b", "10 МРП айыппұл", "10 АЕК айыппұл"),
    ("рақмет", r"[Рр]ахмет", "Пікіріңізге рахмет", "Пікіріңізге рақмет"),
    ("calque: өмір сүреді", r"уақытымен өмір сүреді", "UTC+5 уақытымен өмір сүреді",
     "бір уақыт белдеуі — UTC+5"),
    ("calque: с возвращением", r"[Оо]ралуыңызбен", "Қайта оралуыңызбен!", "Қош келдіңіз!"),
    ("calque: что-то пошло не так", r"бірдеңе дұрыс болмады", "бірдеңе дұрыс болмады",
     "қате шықты"),
    ("calque: личная функция", r"жеке функция", "Бұл жеке функция", "Бұл мүмкіндік"),
]
# Russian interface labels may follow the Kazakh name in brackets, never stand alone.
RUSSIAN_LABELS = (
    "Избранное", "Действителен по", "Загрузки", "Мои ключи ЭЦП", "Налоги и финансы",
    "История услуг", "Личный кабинет", "Добровольный отказ", "Услуги",
)
RU_RULES: list[tuple[str, str, str, str]] = [
    ("ЭЦП is feminine", r"(?i)\b(мой|новый|старый|облачный|личный|свой|ваш|этот) ЭЦП\b",
     "Мой ЭЦП для налогов", "Моя ЭЦП для налогов"),
]
_PARENS = re.compile(r"\([^()]*\)")


def without_russian_brackets(line: str) -> str:
    """The line minus brackets that quote a Russian label («…» or after «орысша»)."""
    def drop(m: re.Match[str]) -> str:
        inner = m.group()
        return "" if inner.startswith("(«") or "орысша" in inner else inner

    return _PARENS.sub(drop, line)


def without_russian_text(line: str) -> str:
    """The line minus brackets holding Russian words; Kazakh words in brackets are checked."""
    def drop(m: re.Match[str]) -> str:
        inner = m.group()
        russian = "орысша" in inner or any(label in inner for label in RUSSIAN_LABELS)
        return "" if russian else inner

    return _PARENS.sub(drop, line)


def _ftl_lines(folder: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(folder.glob("*.ftl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.startswith("#"):
                yield f"{path.name}:{number}", line


def texts(folder: Path) -> list[tuple[str, str]]:
    """(where, line) for every line of prose in one locale: .ftl, KB titles/answers, tips."""
    out = list(_ftl_lines(folder))
    kb = yaml.safe_load((folder / "knowledge.yaml").read_text(encoding="utf-8"))
    for topic_id, entry in kb.items():
        out.append((f"knowledge {topic_id} title", entry["title"]))
        out += [(f"knowledge {topic_id} answer", line) for line in entry["answer"].splitlines()]
    tips = yaml.safe_load((folder / "tips.yaml").read_text(encoding="utf-8"))["tips"]
    for tip in tips:
        out += [(f"tip {tip['id']}", line) for line in tip["text"].splitlines()]
    return out


def violations(lines: list[tuple[str, str]], rules: list[tuple[str, str, str, str]]) -> list[str]:
    found = []
    for where, line in lines:
        bare = without_russian_text(line)
        found += [f"{where}: {rule}: {line.strip()[:120]}"
                  for rule, pattern, _, _ in rules if re.search(pattern, bare)]
    return found


@pytest.mark.parametrize("rule", KK_RULES + RU_RULES, ids=lambda r: r[0])
def test_rule_catches_its_wrong_sample(rule: tuple[str, str, str, str]) -> None:
    _, pattern, wrong, right = rule
    assert re.search(pattern, wrong) and not re.search(pattern, right)


def test_kazakh_texts_have_no_wrong_forms() -> None:
    assert violations(texts(KK), KK_RULES) == []


def test_no_bare_russian_labels_in_kazakh_sentences() -> None:
    bad = [
        f"{where}: {label}"
        for where, line in texts(KK)
        for label in RUSSIAN_LABELS
        if re.search(rf"(?<!\w){re.escape(label)}(?!\w)", without_russian_brackets(line))
    ]
    assert bad == []


def test_russian_label_in_brackets_is_allowed() -> None:
    line = "«Сақталған хабарламалар» («Избранное») бөлімінде"
    assert violations([("sample", line)], KK_RULES) == []
    assert "Избранное" not in without_russian_brackets(line)
    assert violations([("sample", "eGov Mobile-дағы («бұлтты») ЭЦҚ")], KK_RULES) != []
    assert "Избранное" in without_russian_brackets("мессенджерде (Telegram «Избранное» де)")


def test_russian_texts_keep_eds_feminine() -> None:
    assert violations(texts(RU), RU_RULES) == []


def test_glossary_document_lists_the_terms() -> None:
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    for term in ("ЭЦҚ", "ҰКО", "ХҚО", "құпиясөз", "кілт", "бұлттық ЭЦҚ", "1414 те"):
        assert term in glossary, term
