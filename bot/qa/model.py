"""A sparse linear topic classifier trained by the averaged passive-aggressive algorithm.

Each question is a TF-IDF vector (sublinear term frequency, smoothed IDF, unit length) over
the matcher's features; each label (a topic id, or `none` for out of scope) has a weight vector,
and the label with the highest dot product wins. Training is multiclass passive-aggressive (PA-I:
push the true label above the closest wrong one by a margin, step size capped by C) with weight
averaging, which generalises like a linear SVM and, unlike nearest-neighbour voting, learns which
words tell two close topics apart. One more example can be learned at run time with a few
updates, without retraining.

Training the whole model takes seconds in pure Python, so a trained model is shipped as JSON
(see bot/qa/train.py) and loaded at start-up; its fingerprint says which training data it saw.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

Vector = dict[str, float]

EPOCHS = 6
AGGRESSIVENESS = 1.0  # PA-I cap C on one step
_FORMAT = 1
_DIGITS = 5  # weights and IDF are stored rounded: the file stays small and diffs stay readable


class LinearModel:
    """Weights per feature and label, plus the IDF table the vectors are weighed with."""

    def __init__(self, labels: Sequence[str], idf: dict[str, float], n_docs: int) -> None:
        self.labels = tuple(labels)
        self.idf = idf
        self.n_docs = n_docs
        self.weights: dict[str, dict[int, float]] = {}
        # Word counts of in-scope and of out-of-scope examples, for the matcher's gate.
        self.counts: tuple[dict[str, int], dict[str, int]] = ({}, {})
        self.fingerprint = ""

    # -- vectors ---------------------------------------------------------------------------

    def vector(self, features: Iterable[str]) -> Vector:
        """Unit-length TF-IDF vector of features; unknown features are dropped."""
        idf = self.idf
        vec = {f: (1.0 + math.log(c)) * idf[f] for f, c in Counter(features).items() if f in idf}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {f: w / norm for f, w in vec.items()}

    def scores(self, vec: Vector) -> list[float]:
        """Dot product of vec with every label's weights, in labels order."""
        result = [0.0] * len(self.labels)
        weights = self.weights
        for f, v in vec.items():
            row = weights.get(f)
            if row is not None:
                for label, w in row.items():
                    result[label] += w * v
        return result

    # -- training --------------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        docs: Sequence[list[str]],
        labels: Sequence[int],
        names: Sequence[str],
        epochs: int = EPOCHS,
        seed: int = 0,
    ) -> LinearModel:
        """Fit on feature lists docs with label indexes labels (into names)."""
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(set(doc))
        n = len(docs)
        idf = {f: math.log((1 + n) / (1 + c)) + 1.0 for f, c in df.items()}
        model = cls(names, idf, n)
        vectors = [model.vector(doc) for doc in docs]
        current: dict[str, dict[int, float]] = defaultdict(dict)
        # Averaging: the mean of the weights after every step, kept as w - u / t.
        delayed: dict[str, dict[int, float]] = defaultdict(dict)
        order = list(range(n))
        rng = random.Random(seed)
        step = 1
        for _ in range(epochs):
            rng.shuffle(order)
            for i in order:
                tau, worst = _pa_step(current, vectors[i], labels[i], len(names))
                if tau:
                    _apply(current, delayed, vectors[i], labels[i], worst, tau, step)
                step += 1
        model.weights = {
            f: {lb: w - delayed[f].get(lb, 0.0) / step for lb, w in row.items()}
            for f, row in current.items()
        }
        return model

    def learn(self, features: Iterable[str], label: int, rounds: int = 5) -> None:
        """Move the weights until features score label first by a margin (one example)."""
        for f in features:
            # A word no training example had gets a high IDF, as a rare word would.
            self.idf.setdefault(f, math.log((1 + self.n_docs) / 2) + 1.0)
        vec = self.vector(features)
        for _ in range(rounds):
            tau, worst = _pa_step(self.weights, vec, label, len(self.labels), cap=4.0)
            if not tau:
                return
            for f, v in vec.items():
                row = self.weights.setdefault(f, {})
                row[label] = row.get(label, 0.0) + tau * v
                row[worst] = row.get(worst, 0.0) - tau * v

    # -- persistence -----------------------------------------------------------------------

    def save(self, path: Path) -> None:
        payload: dict[str, Any] = {
            "format": _FORMAT,
            "fingerprint": self.fingerprint,
            "labels": list(self.labels),
            "n_docs": self.n_docs,
            "counts": [dict(sorted(c.items())) for c in self.counts],
            "idf": {f: round(v, _DIGITS) for f, v in sorted(self.idf.items())},
            "weights": {
                f: {str(lb): round(w, _DIGITS) for lb, w in sorted(row.items()) if round(w, _DIGITS)}
                for f, row in sorted(self.weights.items())
            },
        }
        payload["weights"] = {f: row for f, row in payload["weights"].items() if row}
        path.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n",
                        encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinearModel | None:
        """The model saved at path, or None if it is missing or of another format."""
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            return None
        model = cls(payload["labels"], payload["idf"], int(payload["n_docs"]))
        model.weights = {
            f: {int(lb): w for lb, w in row.items()} for f, row in payload["weights"].items()
        }
        in_scope, out_scope = payload["counts"]
        model.counts = (dict(in_scope), dict(out_scope))
        model.fingerprint = str(payload["fingerprint"])
        return model


def _pa_step(
    weights: dict[str, dict[int, float]],
    vec: Vector,
    label: int,
    n_labels: int,
    cap: float = AGGRESSIVENESS,
) -> tuple[float, int]:
    """PA-I step size for (vec, label) and the closest wrong label; 0 when the margin holds."""
    scores = [0.0] * n_labels
    for f, v in vec.items():
        row = weights.get(f)
        if row is not None:
            for lb, w in row.items():
                scores[lb] += w * v
    own = scores[label]
    scores[label] = -math.inf
    worst = max(range(n_labels), key=scores.__getitem__)
    loss = 1.0 - (own - scores[worst])
    if loss <= 0.0:
        return 0.0, worst
    sq = 2.0 * sum(v * v for v in vec.values())
    return (min(cap, loss / sq) if sq else 0.0), worst


def _apply(
    current: dict[str, dict[int, float]],
    delayed: dict[str, dict[int, float]],
    vec: Vector,
    label: int,
    worst: int,
    tau: float,
    step: int,
) -> None:
    for f, v in vec.items():
        row, acc = current[f], delayed[f]
        row[label] = row.get(label, 0.0) + tau * v
        row[worst] = row.get(worst, 0.0) - tau * v
        acc[label] = acc.get(label, 0.0) + step * tau * v
        acc[worst] = acc.get(worst, 0.0) - step * tau * v
