"""Knowledge files load, stay in parity between kk and ru, and broken copies are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.qa.knowledge import (
    DEFAULT_ROOT,
    LANGS,
    MAX_ANSWER_CHARS,
    TOPIC_IDS,
    KnowledgeError,
    load_knowledge,
)

FORBIDDEN_ASKS = ("пришлите пароль", "отправьте пароль", "құпиясөзді жіберіңіз", "введите иин")


def test_topic_ids_match_topics_md() -> None:
    topics_md = DEFAULT_ROOT.parent / "shared" / "TOPICS.md"
    if not topics_md.exists():
        pytest.skip("../shared/TOPICS.md not available")
    cells = [
        line.split("|")[1].strip()
        for line in topics_md.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ")
    ]
    ids = [c for c in cells if c not in ("id", "---")]
    assert tuple(ids) == TOPIC_IDS


def test_knowledge_loads_with_parity() -> None:
    kb = load_knowledge(DEFAULT_ROOT)
    assert tuple(kb.topics) == TOPIC_IDS
    for topic in kb.topics.values():
        assert set(topic.texts) == set(LANGS)
        for lang in LANGS:
            text = topic.texts[lang]
            assert text.answer and 8 <= len(text.examples) <= 15 and text.keywords
            assert len(text.answer) <= MAX_ANSWER_CHARS
            assert not any(ask in text.answer.lower() for ask in FORBIDDEN_ASKS)
        assert len(topic.related) <= 2


def test_examples_do_not_leak_between_topics() -> None:
    kb = load_knowledge(DEFAULT_ROOT)
    seen: dict[str, str] = {}
    for topic in kb.topics.values():
        for lang in LANGS:
            for example in topic.texts[lang].examples:
                key = example.lower().strip()
                assert seen.setdefault(key, topic.id) == topic.id, example


@pytest.fixture()
def broken_root(tmp_path: Path) -> Path:
    shutil.copytree(DEFAULT_ROOT / "knowledge", tmp_path / "knowledge")
    for lang in LANGS:
        (tmp_path / "locales" / lang).mkdir(parents=True)
        shutil.copy(
            DEFAULT_ROOT / "locales" / lang / "knowledge.yaml",
            tmp_path / "locales" / lang / "knowledge.yaml",
        )
    return tmp_path


def _edit(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_copy_loads(broken_root: Path) -> None:
    assert len(load_knowledge(broken_root).topics) == len(TOPIC_IDS)


def test_missing_topic_in_a_language(broken_root: Path) -> None:
    _edit(broken_root / "locales/kk/knowledge.yaml", lambda d: d.pop("fraud"))
    with pytest.raises(KnowledgeError, match="fraud"):
        load_knowledge(broken_root)


def test_missing_required_link(broken_root: Path) -> None:
    def drop_link(d: dict) -> None:
        d["renew"]["answer"] = d["renew"]["answer"].replace("pki.gov.kz", "сайт")

    _edit(broken_root / "locales/ru/knowledge.yaml", drop_link)
    with pytest.raises(KnowledgeError, match="pki.gov.kz"):
        load_knowledge(broken_root)


def test_answer_too_long(broken_root: Path) -> None:
    def grow(d: dict) -> None:
        d["validity"]["answer"] += " pki.gov.kz" * 100

    _edit(broken_root / "locales/kk/knowledge.yaml", grow)
    with pytest.raises(KnowledgeError, match="chars"):
        load_knowledge(broken_root)


def test_answer_over_telegram_limit(broken_root: Path) -> None:
    def grow(d: dict) -> None:
        d["validity"]["answer"] += "x" * 5000

    _edit(broken_root / "locales/kk/knowledge.yaml", grow)
    with pytest.raises(KnowledgeError, match="4096"):
        load_knowledge(broken_root)


def test_unknown_related_id(broken_root: Path) -> None:
    def bad_related(d: dict) -> None:
        d["topics"][0]["related"] = ["no-such-topic"]

    _edit(broken_root / "knowledge/topics.yaml", bad_related)
    with pytest.raises(KnowledgeError, match="related"):
        load_knowledge(broken_root)


def test_extra_topic_id(broken_root: Path) -> None:
    _edit(broken_root / "knowledge/topics.yaml", lambda d: d["topics"].append({"id": "weather"}))
    with pytest.raises(KnowledgeError, match="weather"):
        load_knowledge(broken_root)


def test_disallowed_html(broken_root: Path) -> None:
    def add_tag(d: dict) -> None:
        d["ncalayer"]["answer"] = "<u>x</u> " + d["ncalayer"]["answer"]

    _edit(broken_root / "locales/ru/knowledge.yaml", add_tag)
    with pytest.raises(KnowledgeError, match="HTML"):
        load_knowledge(broken_root)


def test_missing_file(broken_root: Path) -> None:
    (broken_root / "locales/kk/knowledge.yaml").unlink()
    with pytest.raises(KnowledgeError, match="missing"):
        load_knowledge(broken_root)


def test_sections_cover_every_topic_once() -> None:
    kb = load_knowledge(DEFAULT_ROOT)
    placed = [t for topics in kb.sections.values() for t in topics]
    assert sorted(placed) == sorted(TOPIC_IDS)


def test_topic_missing_from_sections(broken_root: Path) -> None:
    _edit(broken_root / "knowledge/topics.yaml", lambda d: d["sections"][0]["topics"].pop())
    with pytest.raises(KnowledgeError, match="exactly one section"):
        load_knowledge(broken_root)


def test_topic_in_two_sections(broken_root: Path) -> None:
    _edit(broken_root / "knowledge/topics.yaml",
          lambda d: d["sections"][1]["topics"].append(d["sections"][0]["topics"][0]))
    with pytest.raises(KnowledgeError, match="exactly one section"):
        load_knowledge(broken_root)


@pytest.mark.parametrize("lang", LANGS)
def test_every_section_has_a_button_label(lang: str) -> None:
    from bot.i18n import Translator

    translator = Translator()
    for section in load_knowledge(DEFAULT_ROOT).sections:
        assert translator.has(lang, f"btn-faq-section-{section}"), section
