"""Phrasings admins attached to a topic (or marked out of scope) from real questions.

They are looked up before the matcher: the exact question, or a near copy of it (a typo, other
endings, another word order), gets the admin's decision. Anything less similar is left to the
matcher, so one taught phrasing never drags unrelated questions to its topic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.qa.redact import question_key, redact

# Near copies only: a changed letter or two in a sentence, not a changed word in a short one.
NEAR_SCORE = 92.0
NEAR_MIN_CHARS = 16


@dataclass(frozen=True, slots=True)
class Learned:
    """An admin's decision for one phrasing: a topic id, or None for out of scope."""

    topic: str | None
    lang: str


class LearnedIndex:
    """Question key → decision, updated in place as admins teach (no restart, no re-index)."""

    def __init__(self) -> None:
        self._by_key: dict[str, Learned] = {}

    def __len__(self) -> int:
        return len(self._by_key)

    def add(self, text: str, topic: str | None, lang: str) -> None:
        key = question_key(redact(text))
        if key:
            self._by_key[key] = Learned(topic, lang)

    def remove(self, text: str) -> None:
        self._by_key.pop(question_key(redact(text)), None)

    def replace(self, items: Iterable[tuple[str, str | None, str]]) -> None:
        """Swap in a whole new set of (text, topic, lang), e.g. reloaded from the database."""
        fresh = LearnedIndex()
        for text, topic, lang in items:
            fresh.add(text, topic, lang)
        self._by_key = fresh._by_key

    def lookup(self, text: str) -> Learned | None:
        """The decision for this question or a near copy of it, else None."""
        if not self._by_key:
            return None
        key = question_key(redact(text))
        if not key:
            return None
        found = self._by_key.get(key)
        if found is not None or len(key) < NEAR_MIN_CHARS:
            return found
        # Imported on the first near-copy search (only once admins have taught phrasings):
        # rapidfuzz costs about 3 MB of memory at start-up otherwise.
        from rapidfuzz import fuzz, process

        hit = process.extractOne(
            key, self._by_key.keys(), scorer=fuzz.ratio, score_cutoff=NEAR_SCORE
        )
        return None if hit is None else self._by_key[hit[0]]


_KK_LETTERS = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")


def text_form(text: str, lang: str) -> str:
    """The form label of the evaluation sets: kk, ru, kk-nodiac, kk-lat or ru-lat."""
    letters = [ch for ch in text if ch.isalpha()]
    if letters and all(ch.isascii() for ch in letters):
        return f"{lang}-lat"
    if lang == "kk" and not _KK_LETTERS.intersection(text):
        return "kk-nodiac"
    return lang


def export_tsv(rows: Iterable[tuple[str, str | None, str]]) -> str:
    """(text, topic, lang) rows as a form/topic/question TSV; topic "none" is out of scope."""
    lines = ["form\ttopic\tquestion"]
    for text, topic, lang in sorted(rows, key=lambda r: (r[1] or "~", r[0])):
        clean = " ".join(text.split())  # no tab or newline can break a row
        lines.append(f"{text_form(clean, lang)}\t{topic or 'none'}\t{clean}")
    return "\n".join(lines) + "\n"
