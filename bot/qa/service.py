"""Answer a free-text question from the knowledge base, in the right language."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fluent.runtime import FluentLocalization, FluentResourceLoader

from bot.keys.validation import find_sensitive
from bot.qa.knowledge import DEFAULT_ROOT, KnowledgeBase, load_knowledge
from bot.qa.matcher import Matcher

FallbackText = Callable[[str], str]
DEFAULT_LANG = "ru"

# 12 digits standing alone: an IIN/BIN. Secrets are detected, never logged or stored.
_IIN_RE = re.compile(r"(?<!\d)\d{12}(?!\d)")
_CODE_RE = re.compile(
    r"(?:код|kod|code|смс|sms|cмс|пин|pin)[^\d\n]{0,20}(?<!\d)\d{4,6}(?!\d)", re.IGNORECASE
)
_PASSWORD_RE = re.compile(
    r"(?:парол\w*|password|parol\w*|pass|құпия\s?сөз\w*|купия\s?соз\w*|kupiya\s?soz\w*)"
    r"\s*([:=—-]|это|is|\s)\s*(\S{4,})",
    re.IGNORECASE,
)
# Ordinary words that follow "пароль:" in questions, not password values.
_PLAIN_WORDS = frozenset(
    "забыл забыла забыли не помню потерял ұмыттым умыттым ұмытып умытып білмеймін какой қандай"
    " стандартный одинаковый неверный қате".split()
)


def looks_like_secret(text: str) -> bool:
    """True when text seems to carry an IIN, an SMS/PIN code or a password value.

    Also everything the key registry refuses in storage notes (find_sensitive), so a question
    and a dialog answer are judged by the same rules plus these question-specific ones.
    """
    if _IIN_RE.search(text) or _CODE_RE.search(text) or find_sensitive(text) is not None:
        return True
    for sep, value in _PASSWORD_RE.findall(text):
        value = value.strip(".,!?;\"'«»")
        if len(value) < 4 or value.lower() in _PLAIN_WORDS:
            continue
        has_digit = any(ch.isdigit() for ch in value)
        mixed_case = value.isascii() and value.lower() != value and value.upper() != value
        if sep.strip() or has_digit or mixed_case:
            return True
    return False


@dataclass(frozen=True, slots=True)
class QAResult:
    """Answer to one question; topic None means the polite fallback."""

    topic: str | None
    lang: str
    score: float
    answer: str
    related: list[str]
    answered_in_other_language: bool


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
