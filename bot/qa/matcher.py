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

Both languages share one index, so a question in either language or a mix of them finds its
topic without trusting the language detector. Weights of the gate were calibrated by the
writer-held-out cross-validation in benchmarks/qa_crossval.py, never on the evaluation sets.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.qa.knowledge import DEFAULT_ROOT, KnowledgeBase
from bot.qa.langdetect import detect_language
from bot.qa.lexicon import (
    ANCHORS,
    DOCUMENT_CONTEXT,
    DOCUMENTS,
    DOMAIN_WORDS,
    OFF_TOPIC,
    SERVICES,
    STOPWORDS,
    addressed_to_bot,
    canon,
    concept_of,
    is_strong,
    light_verb_after,
    phrase_tokens,
)
from bot.qa.model import EPOCHS, LinearModel
from bot.qa.normalize import char_ngrams, stem_kk, stem_ru, tokenize
from bot.qa.training import NONE_LABEL, Phrasing

log = logging.getLogger(__name__)

MODEL_PATH = DEFAULT_ROOT / "knowledge" / "matcher-model.json"
# Files whose content shapes the features: a model trained with other versions is stale.
_FEATURE_SOURCES = ("normalize.py", "lexicon.py", "matcher.py", "model.py")


@dataclass(frozen=True, slots=True)
class Gate:
    """Weights of the answer-or-fall-back decision: answer when their sum is positive."""

    bias: float = -0.8
    margin: float = 1.8  # best topic's score minus the `none` label's score
    vocabulary: float = 0.6  # naive Bayes log-odds in-scope vs out-of-scope, divided by 5
    strong: float = 2.2  # names the EDS key itself (ЭЦП, кілт, NCALayer, ...)
    anchor: float = 0.2  # any word of the EDS domain (a password, a PIN, egov, ...)
    domain: float = 0.3  # an everyday word of the domain (a file, a phone number, my data)
    other_object: float = -2.8  # the object is another service's or document (out_of_scope)
    nb_alpha: float = 0.1


DEFAULT_GATE = Gate()


@dataclass(frozen=True, slots=True)
class Match:
    """Best topic for a question, or topic None when nothing is close enough."""

    topic: str | None
    score: float
    lang_detected: str | None


def content_tokens(text: str) -> list[str]:
    """Folded, canonicalised tokens without stopwords or light verbs of compound verbs."""
    words = tokenize(text)
    tokens: list[str] = []
    for t in words:
        if t in STOPWORDS or (tokens and t.startswith(light_verb_after(tokens[-1]) or "\0")):
            continue
        tokens.append(canon(t))
    if addressed_to_bot(words) and not any(is_strong(t) for t in tokens):
        tokens.append("бот")
    tokens += phrase_tokens(words)
    return tokens


def out_of_scope(tokens: list[str]) -> bool:
    """The question's object is something other than an EDS key.

    Unless the key itself (or the bot, or a scam) is named: another service or document
    (an IIN, a bank card, a tax return); a password or PIN of another account; an ID card with no
    word of signing or of its chip.
    """
    if any(is_strong(t) for t in tokens):
        return False
    if any(t.startswith(OFF_TOPIC) for t in tokens):
        return True
    concepts = {concept_of(t) for t in tokens}
    if concepts & {"password", "pin"} and any(t.startswith(SERVICES) for t in tokens):
        return True
    return any(t.startswith(DOCUMENTS) for t in tokens) and not any(
        t.startswith(DOCUMENT_CONTEXT) for t in tokens if not t.startswith(DOCUMENTS)
    )


def _stem(token: str) -> str:
    return min(stem_ru(token), stem_kk(token), key=len)


def features(text: str) -> tuple[list[str], list[str]]:
    """Content tokens of text and its features for the classifier.

    Stems (the shorter of the Russian and the Kazakh one, plus the Russian one), pairs of
    neighbouring stems, concepts a kk or ru word expresses and pairs of them ("how many" + "term"
    = validity), function words ("сколько", "можно", "қалай" tell cost from validity, a ban
    from a how-to), and character 3- and 4-grams (typos, agglutinative endings, transliteration).
    """
    words = tokenize(text)
    tokens = content_tokens(text)
    stems = [_stem(t) for t in tokens]
    feats = [f"w:{s}" for s in stems]
    feats += [f"w:{r}" for t in tokens if (r := stem_ru(t)) not in stems]
    feats += [f"b:{a}_{b}" for a, b in zip(stems, stems[1:], strict=False)]
    concepts = sorted({c for t in tokens if (c := concept_of(t)) is not None})
    feats += [f"k:{c}" for c in concepts]
    feats += [f"kk:{a}+{b}" for i, a in enumerate(concepts) for b in concepts[i + 1 :]]
    feats += [f"s:{w}" for w in words if w in STOPWORDS]
    feats += [f"c:{g}" for t in tokens for g in char_ngrams(t)]
    return tokens, feats


def _vocabulary(feats: Iterable[str]) -> set[str]:
    """Features the in-scope/out-of-scope naive Bayes counts: words and concepts, once each."""
    return {f for f in feats if f[0] in "wk" and f[1] == ":"}


def training_examples(
    kb: KnowledgeBase, phrasings: Iterable[Phrasing]
) -> list[tuple[str, str]]:
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
    """Hash of what a model is trained from: the examples and the feature code."""
    digest = hashlib.sha256(f"epochs={epochs}\n".encode())
    here = Path(__file__).resolve().parent
    for name in _FEATURE_SOURCES:
        digest.update((here / name).read_bytes())
    for text, label in examples:
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def train_model(
    examples: Sequence[tuple[str, str]], labels: Sequence[str], epochs: int = EPOCHS
) -> LinearModel:
    """Train the classifier (and the naive Bayes counts) on examples."""
    index = {label: i for i, label in enumerate(labels)}
    docs, targets = [], []
    in_scope: Counter[str] = Counter()
    out_scope: Counter[str] = Counter()
    for text, label in examples:
        _, feats = features(text)
        docs.append(feats)
        targets.append(index[label])
        (out_scope if label == NONE_LABEL else in_scope).update(_vocabulary(feats))
    model = LinearModel.train(docs, targets, labels, epochs)
    model.counts = (dict(in_scope), dict(out_scope))
    model.fingerprint = fingerprint(examples, epochs)
    return model


class Matcher:
    """Find the knowledge-base topic closest to a free-text question."""

    def __init__(
        self,
        kb: KnowledgeBase,
        phrasings: Iterable[Phrasing] = (),
        model: LinearModel | None = None,
        gate: Gate = DEFAULT_GATE,
        model_path: Path | None = MODEL_PATH,
    ) -> None:
        self.gate = gate
        self.topic_ids: tuple[str, ...] = tuple(kb.topics)
        labels = (*self.topic_ids, NONE_LABEL)
        if model is None:
            examples = training_examples(kb, phrasings)
            model = _load_current(model_path, examples, labels)
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
        for f in _vocabulary(feats):
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
        for f in _vocabulary(feats):
            total += math.log((in_scope.get(f, 0) + a) / den_in)
            total -= math.log((out_scope.get(f, 0) + a) / den_out)
        return total

    def scores(self, text: str) -> list[float]:
        """Classifier score of every topic in topic_ids order (and no `none`)."""
        _, feats = features(text)
        return self.model.scores(self.model.vector(feats))[: self._none]

    def decide(self, text: str) -> tuple[int, float, float]:
        """Best topic index, its score, and the gate's value (answer when positive)."""
        tokens, feats = features(text)
        if not tokens:
            return 0, 0.0, -math.inf
        scores = self.model.scores(self.model.vector(feats))
        best = max(range(self._none), key=scores.__getitem__)
        g = self.gate
        value = (
            g.bias
            + g.margin * (scores[best] - scores[self._none])
            + g.vocabulary * max(-10.0, min(10.0, self._bayes(feats))) / 5.0
        )
        if any(is_strong(t) for t in tokens):
            value += g.strong
        if any(t.startswith(ANCHORS) for t in tokens):
            value += g.anchor
        if any(t.startswith(DOMAIN_WORDS) for t in tokens):
            value += g.domain
        if out_of_scope(tokens):
            value += g.other_object
        return best, scores[best], value

    def match(self, text: str) -> Match:
        """Best topic for text, or None when the gate says the question is out of scope."""
        best, score, value = self.decide(text)
        topic = self.topic_ids[best] if value > 0.0 else None
        return Match(topic, round(score, 4), detect_language(text))


def _load_current(
    path: Path | None, examples: Sequence[tuple[str, str]], labels: tuple[str, ...]
) -> LinearModel | None:
    if path is None:
        return None
    model = LinearModel.load(path)
    if model is None or model.labels != labels or model.fingerprint != fingerprint(examples):
        return None
    return model
