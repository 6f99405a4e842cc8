"""Lexical matcher: TF-IDF over stemmed words and character n-grams, nearest example wins.

Both languages are indexed together, so a question typed in either language (or a mix of them)
finds its topic without trusting the language detector.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.qa.knowledge import TOPIC_IDS, KnowledgeBase
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

# Calibrated on tests/qa, benchmarks/data/qa_holdout.tsv and qa_tuning.tsv (never on dev.tsv).
THRESHOLD = 0.17
# With only everyday words of the domain (a file, a phone number, my data) a closer match counts.
DOMAIN_THRESHOLD = 0.30
# Without any EDS word in the question only a much closer match counts (weather, loans, ...).
NO_ANCHOR_THRESHOLD = 0.55
_OOV_FACTOR = 0.6  # unknown words dilute the query, but less than the rarest known word
_WORD_WEIGHT = 0.6  # the rest goes to character n-grams
_EXAMPLE_WEIGHT = 0.5  # nearest example vs the topic's pooled vocabulary
# Meanings (concepts and pairs of them) outweigh the surface form of any single word: they are
# what a Kazakh word shares with its Russian synonym, and tense ("закончился" vs "истекает").
_CONCEPT_BOOST = 1.5

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


def _boost(feature: str) -> float:
    return _CONCEPT_BOOST if feature.startswith("k") else 1.0


def _char_features(tokens: list[str]) -> list[str]:
    return [f"c:{g}" for t in tokens for g in char_ngrams(t)]


class _Space:
    """One TF-IDF vector space with an inverted index over documents."""

    def __init__(self, docs: list[list[str]], groups: list[int]) -> None:
        # IDF counts topics, not documents: a word spread over many topics says little about
        # which one is meant, however many examples repeat it within one topic.
        seen: dict[str, set[int]] = defaultdict(set)
        for feats, group in zip(docs, groups, strict=True):
            for f in feats:
                seen[f].add(group)
        n = len(set(groups))
        self.idf = {f: math.log((n + 1) / len(g)) for f, g in seen.items()}
        self.oov_idf = math.log(n + 1) * _OOV_FACTOR
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, feats in enumerate(docs):
            vec = self._weigh(feats)
            for f, w in vec.items():
                self.postings[f].append((i, w))
        self.n = n

    def _weigh(self, feats: Iterable[str]) -> dict[str, float]:
        tf: dict[str, float] = defaultdict(float)
        for f in feats:
            tf[f] += 1.0
        vec = {
            f: (1.0 + math.log(c)) * self.idf.get(f, self.oov_idf) * _boost(f)
            for f, c in tf.items()
        }
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {f: w / norm for f, w in vec.items()}

    def cosine(self, feats: list[str]) -> dict[int, float]:
        sims: dict[int, float] = defaultdict(float)
        for f, qw in self._weigh(feats).items():
            for i, dw in self.postings.get(f, ()):
                sims[i] += qw * dw
        return sims


class Matcher:
    """Find the knowledge-base topic closest to a free-text question."""

    def __init__(self, kb: KnowledgeBase, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        docs: list[list[str]] = []
        self._doc_topic: list[int] = []
        pooled: dict[int, list[str]] = defaultdict(list)
        vocab: set[str] = set()
        for ti, topic_id in enumerate(TOPIC_IDS):
            for text in kb.topics[topic_id].texts.values():
                for phrase in (text.title, *text.examples, *text.keywords):
                    tokens = content_tokens(phrase)
                    vocab.update(tokens)
                    docs.append(tokens)
                    self._doc_topic.append(ti)
                    pooled[ti].extend(tokens)
        self._vocab = sorted(t for t in vocab if len(t) >= 4)
        self._vocab_set = frozenset(vocab)
        self._word = _Space([_word_features(d) for d in docs], self._doc_topic)
        self._char = _Space([_char_features(d) for d in docs], self._doc_topic)
        topic_docs = [pooled[ti] for ti in range(len(TOPIC_IDS))]
        topics = list(range(len(TOPIC_IDS)))
        self._topic_word = _Space([_word_features(d) for d in topic_docs], topics)
        self._topic_char = _Space([_char_features(d) for d in topic_docs], topics)

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

    def scores(self, text: str) -> list[float]:
        """Score of every topic in TOPIC_IDS order, 0..1."""
        tokens = self._correct(content_tokens(text))
        result = [0.0] * len(TOPIC_IDS)
        if not tokens:
            return result
        wf, cf = _word_features(tokens), _char_features(tokens)
        word, char = self._word.cosine(wf), self._char.cosine(cf)
        for i in set(word) | set(char):
            s = _WORD_WEIGHT * word.get(i, 0.0) + (1 - _WORD_WEIGHT) * char.get(i, 0.0)
            ti = self._doc_topic[i]
            if s > result[ti]:
                result[ti] = s
        tword, tchar = self._topic_word.cosine(wf), self._topic_char.cosine(cf)
        for ti in range(len(TOPIC_IDS)):
            pooled = _WORD_WEIGHT * tword.get(ti, 0.0) + (1 - _WORD_WEIGHT) * tchar.get(ti, 0.0)
            result[ti] = _EXAMPLE_WEIGHT * result[ti] + (1 - _EXAMPLE_WEIGHT) * pooled
        return result

    def match(self, text: str) -> Match:
        """Best topic for text, or None below the calibrated threshold."""
        scores = self.scores(text)
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
        best = scores[order[0]]
        tokens = content_tokens(text)
        if out_of_scope(tokens):
            accepted = False
        elif any(t.startswith(ANCHORS) for t in tokens):
            accepted = best >= self.threshold
        elif any(t.startswith(DOMAIN_WORDS) for t in tokens):
            accepted = best >= DOMAIN_THRESHOLD
        else:
            accepted = best >= NO_ANCHOR_THRESHOLD
        topic = TOPIC_IDS[order[0]] if accepted else None
        return Match(topic, round(best, 4), detect_language(text))
