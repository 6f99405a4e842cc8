"""Training phrasings: how people actually ask, beyond the knowledge base's own examples.

knowledge/phrasings/*.tsv hold questions written by independent writers who saw neither the
answers nor the evaluation sets, one per line: `form<TAB>topic<TAB>question`, where topic is a
topic id or `none` (a question outside the bot's knowledge, which teaches the fallback).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from bot.qa.knowledge import KnowledgeError

NONE_LABEL = "none"


@dataclass(frozen=True, slots=True)
class Phrasing:
    """One labelled question; topic None means out of scope."""

    text: str
    topic: str | None
    form: str
    source: str


def read_phrasings(path: Path) -> list[Phrasing]:
    """Phrasings of one TSV file (header `form topic question`), in file order."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    except FileNotFoundError as exc:
        raise KnowledgeError(f"missing phrasings file: {path}") from exc
    result = []
    for line, row in enumerate(rows, start=2):
        text, topic = (row.get("question") or "").strip(), (row.get("topic") or "").strip()
        if not text or not topic:
            raise KnowledgeError(f"{path.name}:{line}: expected form, topic and question")
        label = None if topic == NONE_LABEL else topic
        result.append(Phrasing(text, label, (row.get("form") or "").strip(), path.stem))
    return result


def load_phrasings(root: Path, topic_ids: tuple[str, ...] | None = None) -> list[Phrasing]:
    """All phrasings under root/knowledge/phrasings, keeping only known topics and `none`."""
    directory = root / "knowledge" / "phrasings"
    found = [p for path in sorted(directory.glob("*.tsv")) for p in read_phrasings(path)]
    if topic_ids is None:
        return found
    known = set(topic_ids)
    return [p for p in found if p.topic is None or p.topic in known]
