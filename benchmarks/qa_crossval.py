"""Cross-validation of the matcher on the training phrasings: where its settings are chosen.

Each writer wrote whole topics, so holding out a writer would hold out topics. Instead every
topic's phrasings of each form are cut into --folds contiguous blocks (a writer repeats an idea
across forms at about the same position, so an idea's variants mostly stay on one side), and
each fold trains on the knowledge base plus the other blocks and asks the held-out block.
The older benchmarks/data/qa_tuning.tsv and qa_holdout.tsv (and --dev) are asked too, with the
matcher trained on all phrasings. benchmarks/qa_accuracy.py then measures the result on sets
that were never used for choosing anything.

With --fit-gate it also fits the weights of the matcher's answer-or-fall-back gate (logistic
regression on the gate's signals of the held-out questions, out-of-scope ones weighted up) and
prints them as a Gate(...) to paste into bot/qa/matcher.py.

Last line: one JSON object with the matcher's and the baseline's figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from qa_baseline import TfidfKnn  # noqa: E402

from bot.qa.knowledge import load_knowledge  # noqa: E402
from bot.qa.matcher import DEFAULT_GATE, Gate, Matcher  # noqa: E402
from bot.qa.training import (  # noqa: E402
    NONE_LABEL,
    Phrasing,
    load_phrasings,
    train_model,
    training_examples,
)

Row = tuple[str, str, set[str]]  # form, question, accepted labels ("none" = fall back)


def rows_of(phrasings: Sequence[Phrasing]) -> list[Row]:
    return [(p.form, p.text, {p.topic or NONE_LABEL}) for p in phrasings]


def tsv_rows(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r.get("question", "").strip()]
    return [
        (r["form"], r["question"], {r["topic"], *filter(None, (r.get("alt") or "").split(","))})
        for r in rows
    ]


def score(predict: Callable[[str], str | None], rows: Sequence[Row],
          misses: list[str] | None = None) -> dict[str, Any]:
    """in-scope top-1, fallback correct and per-form accuracy of predict over rows."""
    hits = {True: [0, 0], False: [0, 0]}
    forms: dict[str, list[int]] = {}
    for form, question, ok in rows:
        got = predict(question) or NONE_LABEL
        good = got in ok
        bucket = hits[NONE_LABEL in ok]
        bucket[0] += good
        bucket[1] += 1
        forms.setdefault(form, [0, 0])
        forms[form][0] += good
        forms[form][1] += 1
        if not good and misses is not None:
            misses.append(f"[{form}] want {'/'.join(sorted(ok))} got {got}: {question}")
    return {
        "in_scope_top1": round(hits[False][0] / hits[False][1], 4) if hits[False][1] else None,
        "none_correct": round(hits[True][0] / hits[True][1], 4) if hits[True][1] else None,
        "per_form": {f: round(h / n, 4) for f, (h, n) in sorted(forms.items())},
        "n": [hits[False][1], hits[True][1]],
        "hits": [hits[False][0], hits[True][0]],
    }


def folds(
    phrasings: Sequence[Phrasing], k: int = 3
) -> list[tuple[list[Phrasing], list[Phrasing]]]:
    """k train/test splits: each (topic, form, writer) list cut into k contiguous blocks."""
    lists: dict[tuple[str | None, str, str], list[Phrasing]] = {}
    for p in phrasings:
        lists.setdefault((p.topic, p.form, p.source), []).append(p)
    fold_of: dict[int, int] = {}
    for group in lists.values():
        for i, p in enumerate(group):
            fold_of[id(p)] = i * k // len(group)
    return [
        (
            [p for p in phrasings if fold_of[id(p)] != f],
            [p for p in phrasings if fold_of[id(p)] == f],
        )
        for f in range(k)
    ]


def pooled(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    n = [sum(r["n"][i] for r in results) for i in (0, 1)]
    h = [sum(r["hits"][i] for r in results) for i in (0, 1)]
    return {"in_scope_top1": round(h[0] / n[0], 4), "none_correct": round(h[1] / n[1], 4),
            "n": n, "hits": h}


def fit_gate(samples: Sequence[tuple[list[float], bool]], none_weight: float,
             l2: float = 1.0, steps: int = 3000) -> Gate:
    """Logistic regression answer-vs-fall-back by gradient descent (samples: signals, answer)."""
    dim = len(samples[0][0])
    w = [0.0] * (dim + 1)
    total = sum(none_weight if not y else 1.0 for _, y in samples)
    rate = 0.5
    for _ in range(steps):
        grad = [0.0] * (dim + 1)
        for x, y in samples:
            z = w[0] + sum(wi * xi for wi, xi in zip(w[1:], x, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            weight = 1.0 if y else none_weight
            err = (p - (1.0 if y else 0.0)) * weight
            grad[0] += err
            for i, xi in enumerate(x):
                grad[i + 1] += err * xi
        for i in range(dim + 1):
            reg = l2 * w[i] if i else 0.0
            w[i] -= rate * (grad[i] / total + reg / total)
    names = [f.name for f in fields(Gate) if f.name not in ("nb_alpha",)]
    return replace(DEFAULT_GATE, **{n: round(v, 2) for n, v in zip(names, w, strict=True)})


def run(gate: Gate = DEFAULT_GATE, k: int = 3, baseline: bool = True, show_misses: bool = False,
        extra: Sequence[Path] = (), fit: float | None = None) -> dict[str, Any]:
    kb = load_knowledge(REPO)
    phrasings = load_phrasings(REPO, tuple(kb.topics))
    labels = (*kb.topics, NONE_LABEL)
    out: dict[str, Any] = {"matcher": {}, "baseline": {}}
    tuning = tsv_rows(REPO / "benchmarks" / "data" / "qa_tuning.tsv")
    samples: list[tuple[list[float], bool]] = []
    for f, (train, test) in enumerate(folds(phrasings, k)):
        examples = training_examples(kb, train)
        m = Matcher(kb, model=train_model(examples, labels), gate=gate)
        misses: list[str] | None = [] if show_misses else None
        out["matcher"][f"fold{f + 1}"] = score(lambda q, m=m: m.match(q).topic, rows_of(test),
                                               misses)
        for line in misses or []:
            print(f"  miss fold{f + 1} {line}")
        if fit is not None:
            for _, q, ok in rows_of(test):
                found = m.signals(q)
                if found is not None and (NONE_LABEL in ok or m.topic_ids[found[0]] in ok):
                    samples.append((list(found[2]), NONE_LABEL not in ok))
        if baseline:
            b = TfidfKnn([(t, None if lb == NONE_LABEL else lb) for t, lb in examples])
            b.calibrate([(q, ok) for _, q, ok in tuning])
            out["baseline"][f"fold{f + 1}"] = score(lambda q, b=b: b.predict(q).topic,
                                                    rows_of(test))
    for name in ("matcher", "baseline"):
        if out[name]:
            out[name]["cv"] = pooled([v for key, v in out[name].items() if key.startswith("fold")])
    if fit is not None:
        gate = fit_gate(samples, fit)
        print(f"fitted (out-of-scope weight {fit}): {gate}")
        out["gate"] = str(gate)
    m = Matcher(kb, model=train_model(training_examples(kb, phrasings), labels), gate=gate)
    for path in (REPO / "benchmarks" / "data" / "qa_tuning.tsv",
                 REPO / "benchmarks" / "data" / "qa_holdout.tsv", *extra):
        misses = [] if show_misses else None
        out["matcher"][path.stem] = score(lambda q: m.match(q).topic, tsv_rows(path), misses)
        for line in misses or []:
            print(f"  miss {path.stem} {line}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--misses", action="store_true", help="print every miss")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--dev", type=Path, default=None, help="also report this labelled TSV")
    parser.add_argument("--fit-gate", type=float, default=None, metavar="NONE_WEIGHT",
                        help="fit the gate, out-of-scope questions weighted NONE_WEIGHT")
    args = parser.parse_args(argv)
    out = run(k=args.folds, baseline=not args.no_baseline, show_misses=args.misses,
              extra=[args.dev] if args.dev else [], fit=args.fit_gate)
    for name in ("matcher", "baseline"):
        for key, fig in out[name].items():
            print(f"{name:8} {key:11} in-scope {fig['in_scope_top1']}  none {fig['none_correct']}"
                  f"  n={fig['n']}")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
