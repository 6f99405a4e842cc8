"""A plain TF-IDF k-nearest-neighbour classifier: the yardstick for the bot's matcher.

Character n-grams (3-5, within words, like scikit-learn's `char_wb`) of the folded text, TF-IDF
with sublinear TF and smoothed IDF, cosine similarity, a similarity-weighted vote of the k nearest
examples. It is trained on exactly the examples the matcher gets (knowledge-base titles, examples
and keywords, training phrasings, out-of-scope phrasings); a question falls back when the vote
says `none` or the nearest example is less similar than a threshold. k and the threshold are
chosen on benchmarks/data/qa_tuning.tsv, never on the evaluation sets. Pure Python on purpose:
the bot needs no numerical stack, and neither should its yardstick.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.qa.normalize import tokenize

NGRAMS = (3, 4, 5)
K_CHOICES = (1, 3, 5, 7, 9)
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 15))


def _features(text: str) -> list[str]:
    feats = []
    for token in tokenize(text):
        padded = f" {token} "
        for n in NGRAMS:
            feats += [padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]
    return feats


@dataclass(frozen=True, slots=True)
class Prediction:
    topic: str | None
    similarity: float


class TfidfKnn:
    """char n-gram TF-IDF, cosine, k-NN vote; topic None = out of scope."""

    def __init__(self, examples: Sequence[tuple[str, str | None]], k: int = 5,
                 threshold: float = 0.2) -> None:
        self.k, self.threshold = k, threshold
        self.labels = [label for _, label in examples]
        counts = [self._tf(_features(text)) for text, _ in examples]
        df: dict[str, int] = defaultdict(int)
        for tf in counts:
            for f in tf:
                df[f] += 1
        n = len(examples)
        self.idf = {f: math.log((1 + n) / (1 + d)) + 1.0 for f, d in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, tf in enumerate(counts):
            for f, w in self._vector(tf).items():
                self.postings[f].append((i, w))

    @staticmethod
    def _tf(feats: Iterable[str]) -> dict[str, float]:
        tf: dict[str, float] = defaultdict(float)
        for f in feats:
            tf[f] += 1.0
        return tf

    def _vector(self, tf: dict[str, float]) -> dict[str, float]:
        vec = {f: (1.0 + math.log(c)) * self.idf[f] for f, c in tf.items() if f in self.idf}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {f: w / norm for f, w in vec.items()}

    def neighbours(self, text: str) -> list[tuple[float, str | None]]:
        """All examples sharing a feature with text, most similar first."""
        sims: dict[int, float] = defaultdict(float)
        for f, qw in self._vector(self._tf(_features(text))).items():
            for i, dw in self.postings[f]:
                sims[i] += qw * dw
        return sorted(((s, self.labels[i]) for i, s in sims.items()), reverse=True,
                      key=lambda sl: sl[0])

    def decide(self, ranked: list[tuple[float, str | None]], k: int,
               threshold: float) -> Prediction:
        if not ranked:
            return Prediction(None, 0.0)
        votes: dict[str | None, float] = defaultdict(float)
        for sim, label in ranked[:k]:
            votes[label] += sim
        label = max(votes, key=lambda lb: votes[lb])
        top = ranked[0][0]
        return Prediction(label if top >= threshold else None, round(top, 4))

    def predict(self, text: str) -> Prediction:
        return self.decide(self.neighbours(text), self.k, self.threshold)

    def calibrate(self, rows: Sequence[tuple[str, set[str]]]) -> tuple[int, float]:
        """Pick k and the threshold maximising mean(in-scope top-1, fallback correct) on rows.

        rows: (question, accepted labels) with "none" for out of scope.
        """
        ranked = [(self.neighbours(q), ok) for q, ok in rows]
        best: tuple[float, int, float] = (-1.0, self.k, self.threshold)
        for k in K_CHOICES:
            for threshold in THRESHOLDS:
                hits = {True: [0, 0], False: [0, 0]}
                for r, ok in ranked:
                    got = self.decide(r, k, threshold).topic or "none"
                    bucket = hits["none" in ok]
                    bucket[0] += got in ok
                    bucket[1] += 1
                score = sum(h / n for h, n in hits.values() if n) / 2
                if score > best[0]:
                    best = (score, k, threshold)
        _, self.k, self.threshold = best
        return self.k, self.threshold
