"""What the matcher learns from, and how its model is trained.

Training examples are the knowledge base's titles, examples and keywords plus the phrasings in
knowledge/phrasings/*.tsv: questions written by independent writers who saw neither the answers
nor the evaluation sets, one per line: `form<TAB>topic<TAB>question`, where topic is a topic id
or `none` (a question outside the bot's knowledge, which teaches the fallback).
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.qa.features import features, vocabulary
from bot.qa.knowledge import KnowledgeBase, KnowledgeError
from bot.qa.model import AGGRESSIVENESS, EPOCHS, MIN_DF, LinearModel

NONE_LABEL = "none"
MODEL_FILE = "matcher-model.json"  # under knowledge/
# Code that shapes what a model learns: a model trained with other versions is stale.
_FEATURE_SOURCES = ("normalize.py", "lexicon.py", "features.py")
# Bump when the training algorithm changes in a way the sources above do not show.
TRAINING_VERSION = 1


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


def training_examples(kb: KnowledgeBase, phrasings: Iterable[Phrasing]) -> list[tuple[str, str]]:
    """(text, label) pairs the matcher learns from; label is a topic id or `none`."""
    examples: list[tuple[str, str]] = []
    for topic_id, topic in kb.topics.items():
        for text in topic.texts.values():
            examples += [(p, topic_id) for p in (text.title, *text.examples, *text.keywords)]
    known = set(kb.topics)
    for p in phrasings:
        if p.topic is None:
            examples.append((p.text, NONE_LABEL))
        elif p.topic in known:
            examples.append((p.text, p.topic))
    return examples


def fingerprint(examples: Sequence[tuple[str, str]], epochs: int = EPOCHS) -> str:
    """Hash of what a model is trained from: the examples, the feature code, the settings."""
    settings = f"v{TRAINING_VERSION} epochs={epochs} min_df={MIN_DF} c={AGGRESSIVENESS}\n"
    digest = hashlib.sha256(settings.encode())
    here = Path(__file__).resolve().parent
    for name in _FEATURE_SOURCES:
        digest.update((here / name).read_bytes())
    for text, label in examples:
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def train_model(
    examples: Sequence[tuple[str, str]], labels: Sequence[str], epochs: int = EPOCHS
) -> LinearModel:
    """Train the classifier and count in-scope and out-of-scope vocabulary on examples."""
    index = {label: i for i, label in enumerate(labels)}
    docs, targets = [], []
    in_scope: Counter[str] = Counter()
    out_scope: Counter[str] = Counter()
    for text, label in examples:
        _, feats = features(text)
        docs.append(feats)
        targets.append(index[label])
        (out_scope if label == NONE_LABEL else in_scope).update(vocabulary(feats))
    model = LinearModel.train(docs, targets, labels, epochs)
    model.counts = (dict(in_scope), dict(out_scope))
    model.fingerprint = fingerprint(examples, epochs)
    return model
