"""Knowledge base: topic metadata plus kk/ru texts, validated when loaded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.constants import LANGUAGES

# Canonical topic ids from ../shared/TOPICS.md; `ask --json` reports exactly these.
TOPIC_IDS: tuple[str, ...] = (
    "what-is-eds", "get-eds", "validity", "renew", "expired", "forgot-password",
    "change-password", "safe-storage", "lost-or-stolen", "revoke", "keys-in-my-name",
    "sms-notifications", "never-share", "fraud", "id-card", "ncalayer", "auth-vs-sign",
    "legal-entity", "cloud-eds", "bot-privacy", "ncalayer-problems", "sign-on-phone",
    "biometrics-failed", "sole-proprietor", "cost", "phone-number", "id-document-changed",
    "pin-blocked", "minors", "power-of-attorney", "loan-ban",
)
# Repository root: knowledge/ and locales/ live there.
DEFAULT_ROOT = Path(__file__).resolve().parents[2]
LANGS: tuple[str, ...] = LANGUAGES
MAX_ANSWER_CHARS = 900
TELEGRAM_MAX_CHARS = 4096
MAX_TITLE_CHARS = 40
MIN_EXAMPLES = 8
_TAG_RE = re.compile(r"</?([a-zA-Z]+)[^>]*>")
_ALLOWED_TAGS = frozenset({"b", "i", "a"})
_ID_RE = re.compile(r"^[a-z]+(?:-[a-z]+)*$")


class KnowledgeError(ValueError):
    """The knowledge files are missing, malformed or break a content rule."""


@dataclass(frozen=True, slots=True)
class TopicText:
    """One topic in one language."""

    title: str
    answer: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic with its texts in every supported language."""

    id: str
    required_links: tuple[str, ...]
    related: tuple[str, ...]
    texts: dict[str, TopicText]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """All topics, in TOPIC_IDS order, and the /faq sections that group them."""

    topics: dict[str, Topic]
    sections: dict[str, tuple[str, ...]]

    def text(self, topic_id: str, lang: str) -> TopicText:
        """Text of a topic in a language."""
        return self.topics[topic_id].texts[lang]


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            # libyaml's loader when PyYAML has it: several times faster at start-up.
            return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError as exc:
        raise KnowledgeError(f"missing knowledge file: {path}") from exc
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"invalid YAML in {path}: {exc}") from exc


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise KnowledgeError(f"{where}: expected a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _check_ids(ids: list[str], where: str) -> None:
    if sorted(ids) != sorted(TOPIC_IDS) or len(ids) != len(set(ids)):
        missing = sorted(set(TOPIC_IDS) - set(ids))
        extra = sorted(set(ids) - set(TOPIC_IDS))
        raise KnowledgeError(f"{where}: topic ids differ from TOPICS.md: missing={missing} "
                             f"extra={extra}")


def _topic_text(raw: Any, where: str, links: tuple[str, ...]) -> TopicText:
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{where}: expected a mapping")
    title, answer = raw.get("title"), raw.get("answer")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE_CHARS:
        raise KnowledgeError(f"{where}: title must be 1-{MAX_TITLE_CHARS} characters")
    if not isinstance(answer, str) or not answer.strip():
        raise KnowledgeError(f"{where}: answer is missing")
    answer = answer.strip()
    if len(answer) > TELEGRAM_MAX_CHARS:
        raise KnowledgeError(f"{where}: answer exceeds Telegram's {TELEGRAM_MAX_CHARS} chars")
    if len(answer) > MAX_ANSWER_CHARS:
        raise KnowledgeError(f"{where}: answer has {len(answer)} chars (> {MAX_ANSWER_CHARS})")
    bad_tags = {t.lower() for t in _TAG_RE.findall(answer)} - _ALLOWED_TAGS
    if bad_tags:
        raise KnowledgeError(f"{where}: HTML tags not allowed in Telegram answers: {bad_tags}")
    for link in links:
        if link.lower() not in answer.lower():
            raise KnowledgeError(f"{where}: answer must name {link!r}")
    examples = _str_list(raw.get("examples"), f"{where}.examples")
    if len(examples) < MIN_EXAMPLES:
        raise KnowledgeError(f"{where}: needs at least {MIN_EXAMPLES} examples")
    keywords = _str_list(raw.get("keywords"), f"{where}.keywords")
    return TopicText(title.strip(), answer, examples, keywords)


def _sections(raw: Any) -> dict[str, tuple[str, ...]]:
    """/faq groups: every topic in exactly one section, in the order written."""
    where = "knowledge/topics.yaml sections"
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise KnowledgeError(f"{where}: expected a list of mappings")
    sections = {str(e.get("id")): _str_list(e.get("topics"), f"{where}.{e.get('id')}") for e in raw}
    if len(sections) != len(raw) or not all(_ID_RE.match(s) for s in sections):
        raise KnowledgeError(f"{where}: ids must be unique kebab-case words")
    placed = [t for topics in sections.values() for t in topics]
    if sorted(placed) != sorted(TOPIC_IDS):
        extra = sorted({t for t in placed if placed.count(t) > 1} | set(placed) - set(TOPIC_IDS))
        raise KnowledgeError(f"{where}: each topic must be in exactly one section: "
                             f"missing={sorted(set(TOPIC_IDS) - set(placed))} extra={extra}")
    return sections


def load_knowledge(root: Path) -> KnowledgeBase:
    """Read knowledge/topics.yaml and locales/{kk,ru}/knowledge.yaml under root and validate."""
    meta = _read_yaml(root / "knowledge" / "topics.yaml")
    if not isinstance(meta, dict) or not isinstance(meta.get("topics"), list):
        raise KnowledgeError("knowledge/topics.yaml: expected a 'topics' list")
    entries = [e for e in meta["topics"] if isinstance(e, dict)]
    if len(entries) != len(meta["topics"]):
        raise KnowledgeError("knowledge/topics.yaml: every topic must be a mapping")
    _check_ids([str(e.get("id")) for e in entries], "knowledge/topics.yaml")
    sections = _sections(meta.get("sections"))
    texts_by_lang: dict[str, dict[str, Any]] = {}
    for lang in LANGS:
        where = f"locales/{lang}/knowledge.yaml"
        data = _read_yaml(root / "locales" / lang / "knowledge.yaml")
        if not isinstance(data, dict):
            raise KnowledgeError(f"{where}: expected a mapping of topic id -> texts")
        _check_ids(list(data), where)
        texts_by_lang[lang] = data
    topics: dict[str, Topic] = {}
    by_id = {str(e["id"]): e for e in entries}
    for topic_id in TOPIC_IDS:
        entry = by_id[topic_id]
        links = _str_list(entry.get("required_links"), f"{topic_id}.required_links")
        related = _str_list(entry.get("related"), f"{topic_id}.related")
        if len(related) > 2 or any(r not in TOPIC_IDS or r == topic_id for r in related):
            raise KnowledgeError(f"{topic_id}: related must be up to 2 other known topic ids")
        texts = {
            lang: _topic_text(texts_by_lang[lang][topic_id], f"{lang}/{topic_id}", links)
            for lang in LANGS
        }
        topics[topic_id] = Topic(topic_id, links, related, texts)
    return KnowledgeBase(topics, sections)
