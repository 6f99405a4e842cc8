"""A sparse linear topic classifier trained by the averaged passive-aggressive algorithm.

Each question is a TF-IDF vector (sublinear term frequency, smoothed IDF, unit length) over
the matcher's features; each label (a topic id, or `none` for out of scope) has a weight vector,
and the label with the highest dot product wins. Training is multiclass passive-aggressive (PA-I:
push the true label above the closest wrong one by a margin, step size capped) with weight
averaging, which generalises like a linear SVM and, unlike nearest-neighbour voting, learns which
words tell two close topics apart. One more example can be learned at run time with a few
updates, without retraining.

Training takes seconds in pure Python, so a trained model is shipped (knowledge/
matcher-model.json, written by `python -m bot.qa.train`) and only loaded at start-up. Its
weights are packed as base64 arrays of 32-bit floats, which loads in milliseconds; the file's
fingerprint says which training data and feature code it was trained with.
"""

from __future__ import annotations

import base64
import heapq
import json
import math
import random
import sys
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import add, mul, sub
from pathlib import Path
from typing import Any

Vector = dict[str, float]
Weights = dict[str, dict[int, float]]

EPOCHS = 6
MIN_DF = 2
AGGRESSIVENESS = 1.0  # PA-I cap on one training step
LEARN_AGGRESSIVENESS = 4.0  # a taught example may move the weights further
_FORMAT = 2

# Packed rows: the weights of the most common features (lowest IDF: n-grams of everyday words,
# about 85% of the (label, weight) pairs a question touches) also kept as one integer each, a
# fixed-point lane per label, so that a question's dot product with them is one big-integer
# multiply-add per feature in C instead of a Python loop over its labels. Integer sums are
# exact; the result differs from the float loop only in its last bits (below 1e-12).
# A lane sums w * 2**40 * v * 2**44: with |w| < 16 and at most 4096 features (a unit vector's
# L1 norm is then at most 64) it stays below 2**94 in magnitude, so a signed 96-bit lane never
# spills into the next one. Longer texts take the plain loop.
HOT_ROWS = 2000  # about 0.9 MB of packed integers
_LANE = 96  # three 32-bit words
_W_SCALE = float(2**40)
_V_SCALE = float(2**44)
_LANE_SCALE = 2.0**-84  # of a lane's sum; its 32-bit words weigh 2**-84, 2**-52 and 2**-20
_MAX_HOT_WEIGHT = 16.0
_MAX_HOT_FEATURES = 4096


class LinearModel:
    """Weights per feature and label, and the IDF table vectors are weighed with.

    The trained weights live in packed arrays (row of a feature: its labels and weights);
    examples learned at run time add to a small overlay of plain dictionaries.
    """

    def __init__(self, labels: Sequence[str], n_docs: int) -> None:
        self.labels = tuple(labels)
        self.n_docs = n_docs
        self.fingerprint = ""
        # Word counts of in-scope and of out-of-scope examples, for the matcher's gate.
        self.counts: tuple[dict[str, int], dict[str, int]] = ({}, {})
        self._row: dict[str, int] = {}
        self._idf = array("f")
        self._offsets = array("I", [0])
        self._label_ids = array("B")
        self._values = array("f")
        self._extra: Weights = {}
        self._extra_idf: dict[str, float] = {}
        self._hot: dict[str, int] = {}
        self._hot_bias = 0

    # -- vectors and scores ------------------------------------------------------------------

    def idf(self, feature: str) -> float | None:
        row = self._row.get(feature)
        if row is not None:
            return self._idf[row]
        return self._extra_idf.get(feature)

    def vector(self, features: Iterable[str]) -> Vector:
        """Unit-length TF-IDF vector of features; features the model does not know are dropped."""
        vec = {}
        rows, idfs, extra_idf = self._row, self._idf, self._extra_idf
        for f, c in Counter(features).items():
            row = rows.get(f)
            idf = idfs[row] if row is not None else extra_idf.get(f)
            if idf is not None:
                # 1 + log(1) is exactly 1.0: no log for the usual count of one.
                vec[f] = (1.0 + math.log(c)) * idf if c != 1 else idf
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {f: w / norm for f, w in vec.items()}

    def scores(self, vec: Vector) -> list[float]:
        """Dot product of vec with every label's weights, in labels order."""
        result = [0.0] * len(self.labels)
        rows, offsets, label_ids, values = self._row, self._offsets, self._label_ids, self._values
        hot = self._hot if len(vec) <= _MAX_HOT_FEATURES else {}
        extras = self._extra
        packed = 0
        for f, v in vec.items():
            weights = hot.get(f)
            if weights is not None:
                packed += weights * int(v * _V_SCALE)
            else:
                row = rows.get(f)
                if row is not None:
                    start, end = offsets[row], offsets[row + 1]
                    for label, w in zip(label_ids[start:end], values[start:end], strict=True):
                        result[label] += w * v
            if extras:
                extra = extras.get(f)
                if extra is not None:
                    for label, w in extra.items():
                        result[label] += w * v
        if packed:
            # The bias makes every lane non-negative, so its bytes split into 32-bit words:
            # a lane is (high word - 2**31) * 2**64 + middle word * 2**32 + low word.
            words = array("I", (packed + self._hot_bias).to_bytes(len(result) * 12, "little"))
            if sys.byteorder == "big":
                words.byteswap()
            high = map(mul, map(sub, words[2::3], repeat(1 << 31)), repeat(_LANE_SCALE * 2**64))
            middle = map(mul, words[1::3], repeat(_LANE_SCALE * 2**32))
            low = map(mul, words[0::3], repeat(_LANE_SCALE))
            result = list(map(add, result, map(add, map(add, high, middle), low)))
        return result

    def _pack_hot(self, limit: int = HOT_ROWS) -> None:
        """Pack the rows of the limit most common features (see HOT_ROWS)."""
        offsets, label_ids, values = self._offsets, self._label_ids, self._values
        idf = self._idf
        by_row = heapq.nsmallest(limit, self._row.items(), key=lambda fr: (idf[fr[1]], fr[1]))
        self._hot = {}
        for f, row in by_row:
            start, end = offsets[row], offsets[row + 1]
            if any(abs(w) >= _MAX_HOT_WEIGHT for w in values[start:end]):
                continue
            self._hot[f] = sum(
                round(w * _W_SCALE) << (_LANE * label)
                for label, w in zip(label_ids[start:end], values[start:end], strict=True)
            )
        self._hot_bias = sum(1 << (_LANE * label + _LANE - 1) for label in range(len(self.labels)))

    # -- training ----------------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        docs: Sequence[list[str]],
        labels: Sequence[int],
        names: Sequence[str],
        epochs: int = EPOCHS,
        seed: int = 0,
        min_df: int = MIN_DF,
    ) -> LinearModel:
        """Fit on feature lists docs with label indexes labels (into names).

        Features of fewer than min_df examples are dropped: a word or n-gram seen once says
        more about that one writer than about the topic, and the model stays small.
        """
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(set(doc))
        n = len(docs)
        idf = {f: math.log((1 + n) / (1 + c)) + 1.0 for f, c in df.items() if c >= min_df}
        vectors = [_unit(doc, idf) for doc in docs]
        current: Weights = defaultdict(dict)
        # Averaging: the mean of the weights after every step, kept as w - u / t.
        delayed: Weights = defaultdict(dict)
        order = list(range(n))
        rng = random.Random(seed)
        step = 1
        for _ in range(epochs):
            rng.shuffle(order)
            for i in order:
                vec, label = vectors[i], labels[i]
                tau, worst = _pa_step(_dict_scores(current, vec, len(names)), vec, label)
                if tau:
                    for f, v in vec.items():
                        row, acc = current[f], delayed[f]
                        row[label] = row.get(label, 0.0) + tau * v
                        row[worst] = row.get(worst, 0.0) - tau * v
                        acc[label] = acc.get(label, 0.0) + step * tau * v
                        acc[worst] = acc.get(worst, 0.0) - step * tau * v
                step += 1
        weights = {
            f: {lb: w - delayed[f].get(lb, 0.0) / step for lb, w in row.items()}
            for f, row in current.items()
        }
        model = cls(names, n)
        model._pack(idf, weights)
        return model

    def _pack(self, idf: dict[str, float], weights: Weights) -> None:
        features = sorted(idf)
        self._row = {f: i for i, f in enumerate(features)}
        self._idf = array("f", (idf[f] for f in features))
        self._offsets = array("I", [0])
        self._label_ids = array("B")
        self._values = array("f")
        for f in features:
            for label, w in sorted(weights.get(f, {}).items()):
                if w:
                    self._label_ids.append(label)
                    self._values.append(w)
            self._offsets.append(len(self._values))
        self._pack_hot()

    def learn(self, features: Iterable[str], label: int, rounds: int = 5) -> None:
        """Move the weights until features score label first by a margin (one example)."""
        features = list(features)
        for f in features:
            if self.idf(f) is None:
                # A feature no training example had weighs as a rare one would.
                self._extra_idf[f] = math.log((1 + self.n_docs) / 2) + 1.0
        vec = self.vector(features)
        for _ in range(rounds):
            tau, worst = _pa_step(self.scores(vec), vec, label, LEARN_AGGRESSIVENESS)
            if not tau:
                return
            for f, v in vec.items():
                row = self._extra.setdefault(f, {})
                row[label] = row.get(label, 0.0) + tau * v
                row[worst] = row.get(worst, 0.0) - tau * v

    # -- persistence -------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the trained model (not the run-time overlay) as JSON."""
        payload: dict[str, Any] = {
            "format": _FORMAT,
            "fingerprint": self.fingerprint,
            "labels": list(self.labels),
            "n_docs": self.n_docs,
            "features": sorted(self._row, key=self._row.__getitem__),
            "idf": _encode(self._idf),
            "offsets": _encode(self._offsets),
            "label_ids": _encode(self._label_ids),
            "weights": _encode(self._values),
            "counts": [dict(sorted(c.items())) for c in self.counts],
        }
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinearModel | None:
        """The model saved at path, or None if it is missing, unreadable or of another format."""
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("format") != _FORMAT:
                return None
            model = cls(payload["labels"], int(payload["n_docs"]))
            model._row = {f: i for i, f in enumerate(payload["features"])}
            model._idf = _decode("f", payload["idf"])
            model._offsets = _decode("I", payload["offsets"])
            model._label_ids = _decode("B", payload["label_ids"])
            model._values = _decode("f", payload["weights"])
            in_scope, out_scope = payload["counts"]
            model.counts = (dict(in_scope), dict(out_scope))
            model.fingerprint = str(payload["fingerprint"])
            del payload, in_scope, out_scope  # the JSON text's objects go before the packing
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if len(model._idf) != len(model._row) or len(model._offsets) != len(model._row) + 1:
            return None
        model._pack_hot()
        return model


def _unit(doc: Iterable[str], idf: dict[str, float]) -> Vector:
    vec = {f: (1.0 + math.log(c)) * idf[f] for f, c in Counter(doc).items() if f in idf}
    norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
    return {f: w / norm for f, w in vec.items()}


def _dict_scores(weights: Weights, vec: Vector, n_labels: int) -> list[float]:
    scores = [0.0] * n_labels
    for f, v in vec.items():
        row = weights.get(f)
        if row is not None:
            for lb, w in row.items():
                scores[lb] += w * v
    return scores


def _pa_step(
    scores: list[float], vec: Vector, label: int, cap: float = AGGRESSIVENESS
) -> tuple[float, int]:
    """PA-I step size for (vec, label) and the closest wrong label; 0 when the margin holds."""
    own = scores[label]
    worst = max((i for i in range(len(scores)) if i != label), key=scores.__getitem__)
    loss = 1.0 - (own - scores[worst])
    if loss <= 0.0:
        return 0.0, worst
    sq = 2.0 * sum(v * v for v in vec.values())
    return (min(cap, loss / sq) if sq else 0.0), worst


def _encode(values: array[Any]) -> str:
    """Little-endian bytes of an array, base64."""
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def _decode(typecode: str, text: str) -> array[Any]:
    values = array(typecode)
    values.frombytes(base64.b64decode(text))
    if sys.byteorder == "big":
        values.byteswap()
    return values
