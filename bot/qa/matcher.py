"""Lexical matcher: nearest training phrasing plus the topic's pooled vocabulary.

Every example (the knowledge base's own, the training phrasings, out-of-scope questions and
phrasings learned at run time) is a TF-IDF vector over stemmed words, kk/ru concepts and
character n-grams of the folded text. A question's topic score mixes its similarity to the
nearest example of the topic with its similarity to everything the topic's examples say; the
nearest out-of-scope example competes with the best topic, so questions like the fallback's
examples fall back. Both languages are indexed together, so a question typed in either language
(or a mix of them) finds its topic without trusting the language detector.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.qa.knowledge import KnowledgeBase
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
from bot.qa.normalize import char_ngrams, stem_kk, stem_ru, tokenize
from bot.qa.training import Phrasing


@dataclass(frozen=True, slots=True)
class Params:
    """Weights and thresholds, calibrated by writer-held-out cross-validation on the phrasings."""

    threshold: float = 0.17
    domain_threshold: float = 0.30
    no_anchor_threshold: float = 0.55
    none_margin: float = 0.0
    word_weight: float = 0.6
    example_weight: float = 0.5
    concept_boost: float = 1.5
    oov_factor: float = 0.6
    rules: bool = True
    none_in_idf: bool = True
    char_sizes: tuple[int, ...] = (3, 4)


DEFAULT_PARAMS = Params()


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
    """The question's object is something other than an EDS key, whatever its score.

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


def _word_features(tokens: list[str]) -> list[str]:
    stems = [min(stem_ru(t), stem_kk(t), key=len) for t in tokens]
    feats = [f"w:{s}" for s in stems]
    feats += [f"w:{stem_ru(t)}" for t in tokens if stem_ru(t) not in stems]
    feats += [f"b:{a}_{b}" for a, b in zip(stems, stems[1:], strict=False)]
    concepts = sorted({c for t in tokens if (c := concept_of(t)) is not None})
    feats += [f"k:{c}" for c in concepts]
    # Pairs of meanings ("how many" + "term" = validity) disambiguate short questions.
    feats += [f"kk:{a}+{b}" for i, a in enumerate(concepts) for b in concepts[i + 1 :]]
    return feats


def _char_features(tokens: list[str], sizes: tuple[int, ...]) -> list[str]:
    return [f"c:{g}" for t in tokens for g in char_ngrams(t, sizes)]


class _Space:
    """A TF-IDF vector space with an inverted index; documents can be added one by one.

    IDF counts labels (topics, and `none`), not documents: a word spread over many topics says
    little about which one is meant, however many examples repeat it within one topic. A document
    is weighed with the IDF known when it is added; one more example barely moves it.
    """

    def __init__(self, labels: int, oov_factor: float, concept_boost: float) -> None:
        self.labels = labels
        self.seen: dict[str, set[int]] = defaultdict(set)
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.oov_idf = math.log(labels + 1) * oov_factor
        self.concept_boost = concept_boost

    def register(self, feats: Iterable[str], label: int | None) -> None:
        """Count the label of a document for IDF (label None: not counted)."""
        if label is None:
            return
        for f in feats:
            self.seen[f].add(label)

    def idf(self, feature: str) -> float:
        labels = self.seen.get(feature)
        if not labels:
            return self.oov_idf
        return math.log((self.labels + 1) / len(labels))

    def weigh(self, feats: Iterable[str]) -> dict[str, float]:
        tf: dict[str, float] = defaultdict(float)
        for f in feats:
            tf[f] += 1.0
        vec = {}
        for f, c in tf.items():
            w = (1.0 + math.log(c)) * self.idf(f)
            vec[f] = w * self.concept_boost if f[0] == "k" else w
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {f: w / norm for f, w in vec.items() if w > 0.0}

    def index(self, doc: int, feats: Iterable[str]) -> None:
        for f, w in self.weigh(feats).items():
            self.postings[f].append((doc, w))

    def cosine(self, query: dict[str, float]) -> dict[int, float]:
        sims: dict[int, float] = defaultdict(float)
        for f, qw in query.items():
            for i, dw in self.postings.get(f, ()):
                sims[i] += qw * dw
        return sims


class Matcher:
    """Find the knowledge-base topic closest to a free-text question."""

    def __init__(
        self,
        kb: KnowledgeBase,
        phrasings: Iterable[Phrasing] = (),
        params: Params = DEFAULT_PARAMS,
    ) -> None:
        self.params = params
        self.topic_ids: tuple[str, ...] = tuple(kb.topics)
        self._label = {t: i for i, t in enumerate(self.topic_ids)}
        self._none = len(self.topic_ids)
        labelled: list[tuple[list[str], int]] = []
        for topic_id in self.topic_ids:
            for text in kb.topics[topic_id].texts.values():
                for phrase in (text.title, *text.examples, *text.keywords):
                    labelled.append((content_tokens(phrase), self._label[topic_id]))
        for p in phrasings:
            label = self._none if p.topic is None else self._label.get(p.topic)
            if label is not None:
                labelled.append((content_tokens(p.text), label))
        n_labels = len(self.topic_ids) + 1
        self._word = _Space(n_labels, params.oov_factor, params.concept_boost)
        self._char = _Space(n_labels, params.oov_factor, params.concept_boost)
        self._doc_label: list[int] = []
        self._pooled: list[list[str]] = [[] for _ in self.topic_ids]
        self._vocab_set: set[str] = set()
        feats = [(self._features(tokens), label) for tokens, label in labelled]
        for (wf, cf), label in feats:
            idf_label = label if label != self._none or params.none_in_idf else None
            self._word.register(wf, idf_label)
            self._char.register(cf, idf_label)
        for (tokens, label), (wf, cf) in zip(labelled, (f for f, _ in feats), strict=True):
            self._store(tokens, label, wf, cf)
        self._vocab = sorted(t for t in self._vocab_set if len(t) >= 4)
        self._build_pooled()

    def _features(self, tokens: list[str]) -> tuple[list[str], list[str]]:
        return _word_features(tokens), _char_features(tokens, self.params.char_sizes)

    def _store(self, tokens: list[str], label: int, wf: list[str], cf: list[str]) -> None:
        doc = len(self._doc_label)
        self._doc_label.append(label)
        self._word.index(doc, wf)
        self._char.index(doc, cf)
        self._vocab_set.update(tokens)
        if label != self._none:
            self._pooled[label].extend(tokens)

    def _build_pooled(self) -> None:
        p = self.params
        n = len(self.topic_ids)
        self._topic_word = _Space(n, p.oov_factor, p.concept_boost)
        self._topic_char = _Space(n, p.oov_factor, p.concept_boost)
        pooled = [self._features(tokens) for tokens in self._pooled]
        for ti, (wf, cf) in enumerate(pooled):
            self._topic_word.register(wf, ti)
            self._topic_char.register(cf, ti)
        for ti, (wf, cf) in enumerate(pooled):
            self._topic_word.index(ti, wf)
            self._topic_char.index(ti, cf)

    def add_example(self, text: str, topic: str | None, lang: str | None = None) -> bool:
        """Index one more phrasing of topic (None: out of scope) at run time.

        lang is informative only: both languages share one index. Returns False (and indexes
        nothing) for an unknown topic or a text without content words.
        """
        del lang
        label = self._none if topic is None else self._label.get(topic)
        tokens = content_tokens(text)
        if label is None or not tokens:
            return False
        wf, cf = self._features(tokens)
        idf_label = label if label != self._none or self.params.none_in_idf else None
        self._word.register(wf, idf_label)
        self._char.register(cf, idf_label)
        self._store(tokens, label, wf, cf)
        self._vocab = sorted(t for t in self._vocab_set if len(t) >= 4)
        if label != self._none:
            self._build_pooled()
        return True

    def _correct(self, tokens: list[str]) -> list[str]:
        """Replace unknown words by a close known one (typos), keep them otherwise."""
        fixed = []
        for t in tokens:
            # A word the lexicon knows the meaning of is not a typo, whatever the KB spells.
            if len(t) >= 5 and t not in self._vocab_set and concept_of(t) is None:
                hit = process.extractOne(
                    t, self._vocab, scorer=Levenshtein.normalized_similarity, score_cutoff=0.8
                )
                if hit is not None:
                    t = hit[0]
            fixed.append(t)
        return fixed

    def _all_scores(self, tokens: list[str]) -> tuple[list[float], list[float]]:
        """Topic scores in topic_ids order, and nearest-example scores (last: out of scope)."""
        p = self.params
        result = [0.0] * len(self.topic_ids)
        if not tokens:
            return result, [0.0] * (len(self.topic_ids) + 1)
        wf, cf = self._features(tokens)
        word = self._word.cosine(self._word.weigh(wf))
        char = self._char.cosine(self._char.weigh(cf))
        nearest = [0.0] * (len(self.topic_ids) + 1)
        ww = p.word_weight
        labels = self._doc_label
        for i in set(word) | set(char):
            s = ww * word.get(i, 0.0) + (1 - ww) * char.get(i, 0.0)
            label = labels[i]
            if s > nearest[label]:
                nearest[label] = s
        tword = self._topic_word.cosine(self._topic_word.weigh(wf))
        tchar = self._topic_char.cosine(self._topic_char.weigh(cf))
        ew = p.example_weight
        for ti in range(len(self.topic_ids)):
            pooled = ww * tword.get(ti, 0.0) + (1 - ww) * tchar.get(ti, 0.0)
            result[ti] = ew * nearest[ti] + (1 - ew) * pooled
        return result, nearest

    def scores(self, text: str) -> list[float]:
        """Score of every topic in topic_ids order, 0..1."""
        return self._all_scores(self._correct(content_tokens(text)))[0]

    def match(self, text: str) -> Match:
        """Best topic for text, or None below the calibrated threshold."""
        p = self.params
        tokens = content_tokens(text)
        scores, nearest = self._all_scores(self._correct(tokens))
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
        best = scores[order[0]]
        if p.rules and out_of_scope(tokens):
            accepted = False
        elif not p.rules or any(t.startswith(ANCHORS) for t in tokens):
            accepted = best >= p.threshold
        elif any(t.startswith(DOMAIN_WORDS) for t in tokens):
            accepted = best >= p.domain_threshold
        else:
            accepted = best >= p.no_anchor_threshold
        none = nearest[self._none]
        if accepted and none > 0.0:
            accepted = nearest[order[0]] > none + p.none_margin
        topic = self.topic_ids[order[0]] if accepted else None
        return Match(topic, round(best, 4), detect_language(text))
