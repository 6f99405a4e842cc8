"""Writer-held-out cross-validation of the matcher on the training phrasings (for tuning).

Each fold trains on the knowledge base plus the phrasings of all writers but one and asks the
held-out writer's questions (out-of-scope phrasings are split into folds round-robin). This is
where the matcher's weights and thresholds are chosen; benchmarks/qa_accuracy.py then measures
the result on sets that were never used for tuning. The older benchmarks/data/qa_tuning.tsv and
qa_holdout.tsv are reported too, with the matcher trained on all phrasings.

Last line: one JSON object with "matcher" and "baseline" figures per fold and overall.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from qa_baseline import TfidfKnn, training_examples  # noqa: E402

from bot.qa.knowledge import KnowledgeBase, load_knowledge  # noqa: E402
from bot.qa.matcher import DEFAULT_PARAMS, Matcher, Params  # noqa: E402
from bot.qa.training import Phrasing, load_phrasings, read_phrasings  # noqa: E402

Row = tuple[str, str, set[str]]  # form, question, accepted labels ("none" = fall back)


def rows_of(phrasings: Sequence[Phrasing]) -> list[Row]:
    return [(p.form, p.text, {p.topic or "none"}) for p in phrasings]


def tsv_rows(path: Path) -> list[Row]:
    import csv

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
        got = predict(question) or "none"
        good = got in ok
        bucket = hits["none" in ok]
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
    """k train/test splits of the phrasings, each topic's phrasings cut into k blocks per form.

    Writers wrote one topic each and repeat an idea across forms at roughly the same position
    (a Russian question, then its Latin and typo variants, then the Kazakh ones), so contiguous
    blocks keep most of an idea's variants on one side of the split.
    """
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


def with_topics(kb: KnowledgeBase, phrasings: Sequence[Phrasing]) -> KnowledgeBase:
    """kb plus empty topics for phrasings' topics it does not know yet (trained on phrasings)."""
    from bot.qa.knowledge import Topic

    topics = dict(kb.topics)
    for p in phrasings:
        if p.topic is not None and p.topic not in topics:
            topics[p.topic] = Topic(p.topic, (), (), {})
    return KnowledgeBase(topics)


def pooled(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    n = [sum(r["n"][i] for r in results) for i in (0, 1)]
    h = [sum(r["hits"][i] for r in results) for i in (0, 1)]
    return {"in_scope_top1": round(h[0] / n[0], 4), "none_correct": round(h[1] / n[1], 4),
            "n": n, "hits": h}


def run(params: Params = DEFAULT_PARAMS, baseline: bool = True, show_misses: bool = False,
        extra: Sequence[Path] = ()) -> dict[str, Any]:
    kb0 = load_knowledge(REPO)
    phrasings = [p for path in sorted((REPO / "knowledge" / "phrasings").glob("*.tsv"))
                 for p in read_phrasings(path)]
    kb = with_topics(kb0, phrasings)
    out: dict[str, Any] = {"matcher": {}, "baseline": {}}
    tuning = tsv_rows(REPO / "benchmarks" / "data" / "qa_tuning.tsv")
    for k, (train, test) in enumerate(folds(phrasings)):
        misses: list[str] | None = [] if show_misses else None
        m = Matcher(kb, train, params)
        out["matcher"][f"fold{k + 1}"] = score(lambda q: m.match(q).topic, rows_of(test), misses)
        for line in misses or []:
            print("  miss", line)
        if baseline:
            b = TfidfKnn(training_examples(kb, train))
            b.calibrate([(q, ok) for _, q, ok in tuning])
            out["baseline"][f"fold{k + 1}"] = score(lambda q: b.predict(q).topic, rows_of(test))
    for name in ("matcher", "baseline"):
        if out[name]:
            out[name]["cv"] = pooled([v for key, v in out[name].items() if key.startswith("fold")])
    m = Matcher(kb, phrasings, params)
    for path in (REPO / "benchmarks" / "data" / "qa_tuning.tsv",
                 REPO / "benchmarks" / "data" / "qa_holdout.tsv", *extra):
        misses = [] if show_misses else None
        out["matcher"][path.stem] = score(lambda q: m.match(q).topic, tsv_rows(path), misses)
        for line in misses or []:
            print("  miss", path.stem, line)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", action="store_true", help="print every miss")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--dev", type=Path, default=None, help="also report this labelled TSV")
    args = parser.parse_args(argv)
    out = run(baseline=not args.no_baseline, show_misses=args.misses,
              extra=[args.dev] if args.dev else [])
    for name, figures in out.items():
        for key, fig in figures.items():
            print(f"{name:8} {key:11} in-scope {fig['in_scope_top1']}  none {fig['none_correct']}"
                  f"  n={fig['n']}")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
