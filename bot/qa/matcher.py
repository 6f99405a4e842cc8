"""Which knowledge-base topic a free-text question is about, or none of them.

Two learned parts and a small lexicon, all over one normalised text (Cyrillic, Kazakh letters
folded, Latin transliterated, so every input form meets the others halfway):

* a linear topic classifier (bot/qa/model.py) over stemmed words, kk/ru concepts, function
  words and character n-grams, trained on the knowledge base's examples and the training
  phrasings, with `none` (out-of-scope questions) as one more label: it picks the topic;
* a gate that decides whether to answer at all. It combines the classifier's margin of the best
  topic over `none`, a two-class naive Bayes of in-scope vs out-of-scope vocabulary (words nobody
  used in an in-scope example count against answering), and the lexicon's signals: a word naming
  the EDS key itself, and the object of another service (a bank card, an IIN, a tax return).

Both languages share one model, so a question in either language or a mix of them finds its
topic without trusting the language detector. The gate's weights come from the cross-validation
on the training phrasings in benchmarks/qa_crossval.py, never from the evaluation sets.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.qa.features import content_tokens, features, vocabulary
from bot.qa.knowledge import DEFAULT_ROOT, KnowledgeBase, load_knowledge
from bot.qa.langdetect import detect_language
from bot.qa.lexicon import (
    ANCHORS,
    DOCUMENT_CONTEXT,
    DOCUMENTS,
    DOMAIN_WORDS,
    OFF_TOPIC,
    SERVICES,
    concept_of,
    names_our_object,
)
from bot.qa.model import LinearModel
from bot.qa.training import (
    MODEL_FILE,
    NONE_LABEL,
    Phrasing,
    fingerprint,
    load_phrasings,
    train_model,
    training_examples,
)

log = logging.getLogger(__name__)

__all__ = ["Gate", "Match", "Matcher", "content_tokens", "features", "load_matcher"]


@dataclass(frozen=True, slots=True)
class Gate:
    """Weights of the answer-or-fall-back decision: answer when their sum is positive.

    A logistic regression on the signals of cross-validation's held-out questions (out-of-scope
    ones weighted up; `benchmarks/qa_crossval.py --fit-gate`), rounded; the bias trades answered
    in-scope questions against correct fallbacks (about 0.97 of out-of-scope phrasings fall back).
    """

    bias: float = -0.8
    margin: float = 1.8  # best topic's score minus the `none` label's score
    vocabulary: float = 0.6  # naive Bayes log-odds in-scope vs out-of-scope, divided by 5
    strong: float = 2.2  # names the key (ЭЦП, кілт, NCALayer), a scam, a ban on loans, ...
    anchor: float = 0.2  # any word of the EDS domain (a password, a PIN, egov, ...)
    domain: float = 0.3  # an everyday word of the domain (a file, a phone number, my data)
    other_object: float = -2.8  # the object is another service's or document (out_of_scope)
    nb_alpha: float = 0.1  # additive smoothing of the naive Bayes word counts

    def value(self, signals: Sequence[float]) -> float:
        """Weighted sum of Matcher.signals (answer when positive)."""
        weights = (self.margin, self.vocabulary, self.strong, self.anchor, self.domain,
                   self.other_object)
        return self.bias + sum(w * s for w, s in zip(weights, signals, strict=True))


DEFAULT_GATE = Gate()


@dataclass(frozen=True, slots=True)
class Match:
    """Best topic for a question, or topic None when it is out of scope.

    score is the gate's confidence that the question is in scope, 0..1 (above 0.5: answered).
    """

    topic: str | None
    score: float
    lang_detected: str | None


def out_of_scope(tokens: list[str]) -> bool:
    """The question's object is something other than an EDS key.

    Unless the key itself (or the bot, or a scam) is named: another service or document
    (an IIN, a bank card, a tax return); a password or PIN of another account; an ID card with no
    word of signing or of its chip.
    """
    if names_our_object(tokens):
        return False
    if any(t.startswith(OFF_TOPIC) for t in tokens):
        return True
    concepts = {concept_of(t) for t in tokens}
    if concepts & {"password", "pin"} and any(t.startswith(SERVICES) for t in tokens):
        return True
    return any(t.startswith(DOCUMENTS) for t in tokens) and not any(
        t.startswith(DOCUMENT_CONTEXT) for t in tokens if not t.startswith(DOCUMENTS)
    )


class Matcher:
    """Find the knowledge-base topic closest to a free-text question."""

    def __init__(
        self,
        kb: KnowledgeBase,
        phrasings: Iterable[Phrasing] | None = None,
        model: LinearModel | None = None,
        gate: Gate = DEFAULT_GATE,
        root: Path = DEFAULT_ROOT,
    ) -> None:
        """Matcher for kb; phrasings None: the training phrasings under root.

        model None: the model shipped under root if it was trained on exactly these examples,
        otherwise one trained now (seconds; logged as a warning).
        """
        self.kb = kb
        self.gate = gate
        self.topic_ids: tuple[str, ...] = tuple(kb.topics)
        labels = (*self.topic_ids, NONE_LABEL)
        if model is None:
            if phrasings is None:
                phrasings = load_phrasings(root, self.topic_ids)
            examples = training_examples(kb, phrasings)
            model = _load_current(root / "knowledge" / MODEL_FILE, examples, labels)
            if model is None:
                log.warning("matcher model missing or stale: training it now (slow start-up); "
                            "run `python -m bot.qa.train` to ship a current one")
                model = train_model(examples, labels)
        if model.labels != labels:
            raise ValueError(f"model labels {model.labels} differ from topics {labels}")
        self.model = model
        self._none = len(self.topic_ids)
        self._reset_bayes()

    def _reset_bayes(self) -> None:
        in_scope, out_scope = self.model.counts
        self._n_in = sum(in_scope.values())
        self._n_out = sum(out_scope.values())
        self._v = len(in_scope.keys() | out_scope.keys()) + 1000

    def add_example(self, text: str, topic: str | None, lang: str | None = None) -> bool:
        """Learn one more phrasing of topic (None: out of scope) at run time.

        lang is informative only: both languages share one model. The classifier takes a few
        passive-aggressive steps until text scores its label first by a margin, and the
        vocabulary counts grow. Returns False (learning nothing) for an unknown topic or a text
        without content words.
        """
        del lang
        label = self._none if topic is None else self._index(topic)
        tokens, feats = features(text)
        if label is None or not tokens:
            return False
        self.model.learn(feats, label)
        in_scope, out_scope = self.model.counts
        counts = out_scope if label == self._none else in_scope
        for f in vocabulary(feats):
            counts[f] = counts.get(f, 0) + 1
        self._reset_bayes()
        return True

    def _index(self, topic: str) -> int | None:
        try:
            return self.topic_ids.index(topic)
        except ValueError:
            return None

    def _bayes(self, feats: Iterable[str]) -> float:
        """Log-odds that these words come from an in-scope rather than an out-of-scope question."""
        in_scope, out_scope = self.model.counts
        a = self.gate.nb_alpha
        den_in, den_out = self._n_in + a * self._v, self._n_out + a * self._v
        total = 0.0
        for f in vocabulary(feats):
            total += math.log((in_scope.get(f, 0) + a) / den_in)
            total -= math.log((out_scope.get(f, 0) + a) / den_out)
        return total

    def scores(self, text: str) -> list[float]:
        """Classifier score of every topic in topic_ids order (and no `none`)."""
        _, feats = features(text)
        return self.model.scores(self.model.vector(feats))[: self._none]

    def signals(self, text: str) -> tuple[int, float, tuple[float, ...]] | None:
        """Best topic index, its score and the gate's signals (Gate's weights' order).

        None for a text without content words. The signals: the best topic's score minus
        `none`'s, the naive Bayes log-odds (clipped to +-10, divided by 5), and 1.0 / 0.0 for
        names_our_object, an EDS anchor, an everyday domain word, out_of_scope.
        """
        tokens, feats = features(text)
        if not tokens:
            return None
        scores = self.model.scores(self.model.vector(feats))
        best = max(range(self._none), key=scores.__getitem__)
        return best, scores[best], (
            scores[best] - scores[self._none],
            max(-10.0, min(10.0, self._bayes(feats))) / 5.0,
            float(names_our_object(tokens)),
            float(any(t.startswith(ANCHORS) for t in tokens)),
            float(any(t.startswith(DOMAIN_WORDS) for t in tokens)),
            float(out_of_scope(tokens)),
        )

    def match(self, text: str) -> Match:
        """Best topic for text, or None when the gate says the question is out of scope."""
        found = self.signals(text)
        if found is None:
            return Match(None, 0.0, detect_language(text))
        best, _, signals = found
        value = self.gate.value(signals)
        topic = self.topic_ids[best] if value > 0.0 else None
        confidence = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, value))))
        return Match(topic, round(confidence, 4), detect_language(text))


def load_matcher(root: Path = DEFAULT_ROOT, gate: Gate = DEFAULT_GATE) -> Matcher:
    """The matcher for the knowledge base and training phrasings under root, model loaded."""
    return Matcher(load_knowledge(root), gate=gate, root=root)


def _load_current(
    path: Path, examples: Sequence[tuple[str, str]], labels: tuple[str, ...]
) -> LinearModel | None:
    model = LinearModel.load(path)
    if model is None or model.labels != labels or model.fingerprint != fingerprint(examples):
        return None
    return model
