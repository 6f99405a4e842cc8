"""Answer a free-text question from the knowledge base, in the right language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from fluent.runtime import FluentLocalization, FluentResourceLoader

from bot.qa.knowledge import DEFAULT_ROOT, KnowledgeBase, load_knowledge
from bot.qa.langdetect import detect_language
from bot.qa.learned import LearnedIndex
from bot.qa.matcher import Matcher

FallbackText = Callable[[str], str]
DEFAULT_LANG = "ru"


@dataclass(frozen=True, slots=True)
class QAResult:
    """Answer to one question; topic None means the polite fallback."""

    topic: str | None
    lang: str
    score: float
    answer: str
    related: list[str]
    answered_in_other_language: bool
    learned: bool = False  # decided by a phrasing an admin taught, not by the matcher


@lru_cache(maxsize=4)
def _fluent(root: Path, lang: str) -> FluentLocalization:
    other = "kk" if lang == "ru" else "ru"
    loader = FluentResourceLoader(str(root / "locales" / "{locale}"))
    return FluentLocalization([lang, other], ["questions.ftl"], loader)


def fluent_fallback(root: Path = DEFAULT_ROOT) -> FallbackText:
    """Fallback text read from locales/<lang>/questions.ftl under root."""

    def text(lang: str) -> str:
        return str(_fluent(root, lang).format_value("questions-fallback"))

    return text


class QAService:
    """Match a question and build the answer in the language that suits the asker."""

    def __init__(
        self, kb: KnowledgeBase, matcher: Matcher, fallback_text: FallbackText | None = None
    ) -> None:
        self.kb = kb
        self.matcher = matcher
        self.fallback_text = fallback_text or fluent_fallback()
        self.learned = LearnedIndex()

    def copy(self) -> QAService:
        """A service sharing this knowledge base and index, with its own learned phrasings."""
        return QAService(self.kb, self.matcher, self.fallback_text)

    def learn(self, text: str, topic: str | None, lang: str) -> None:
        """From now on this question (and near copies) gets topic; None means out of scope."""
        if topic is not None and topic not in self.kb.topics:
            raise ValueError(f"unknown topic {topic!r}")
        self.learned.add(text, topic, lang)

    def unlearn(self, text: str) -> None:
        """Forget a taught phrasing: the matcher decides that question again."""
        self.learned.remove(text)

    def load_learned(self, items: list[tuple[str, str | None, str]]) -> None:
        """Replace every taught phrasing with (text, topic, lang) rows, e.g. at start-up.

        A row whose topic left the knowledge base is skipped: the matcher decides it again."""
        known = self.kb.topics
        self.learned.replace((text, k, lang) for text, k, lang in items if k is None or k in known)

    def choose_language(self, detected: str | None, user_lang: str | None) -> tuple[str, bool]:
        """Pick the answer language; the flag says it differs from the user's chosen one.

        A user who picked Russian but typed the question clearly in Kazakh (or the other way
        round) reads that language fine and most likely expects the answer in it, so the
        question's language wins over the setting; the handler then adds a one-line note.
        Without a clear signal we keep the user's choice; without any choice, the detected
        language, else Russian.
        """
        if user_lang is None:
            return detected or DEFAULT_LANG, False
        if detected is not None and detected != user_lang:
            return detected, True
        return user_lang, False

    def answer(self, text: str, user_lang: str | None = None) -> QAResult:
        """Answer text; user_lang is the language the user chose in the bot, if any."""
        taught = self.learned.lookup(text)
        if taught is not None:
            lang, switched = self.choose_language(detect_language(text), user_lang)
            if taught.topic is None:
                return QAResult(None, lang, 1.0, self.fallback_text(lang), [], switched, True)
            return replace(self.topic_result(taught.topic, lang, 1.0, switched), learned=True)
        found = self.matcher.match(text)
        lang, switched = self.choose_language(found.lang_detected, user_lang)
        if found.topic is None:
            return QAResult(None, lang, found.score, self.fallback_text(lang), [], switched)
        return self.topic_result(found.topic, lang, found.score, switched)

    def topic_result(
        self, topic_id: str, lang: str, score: float = 1.0, switched: bool = False
    ) -> QAResult:
        """The answer for a known topic (also when picked from /faq or a related button)."""
        topic = self.kb.topics[topic_id]
        return QAResult(
            topic.id, lang, score, topic.texts[lang].answer, list(topic.related), switched
        )


def build_service(
    root: Path = DEFAULT_ROOT, fallback_text: FallbackText | None = None
) -> QAService:
    """Load the knowledge base under root and the matcher trained on it (see bot/qa/matcher.py)."""
    kb = load_knowledge(root)
    return QAService(kb, Matcher(kb, root=root), fallback_text or fluent_fallback(root))
