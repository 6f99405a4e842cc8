"""Q&A accuracy and latency on ../shared/qa/dev.tsv and on our own held-out questions.

Last line: one JSON object (see ../shared/CONTRACT.md) with the dev figures at the top level and
the same figures for benchmarks/data/qa_holdout.tsv under "holdout" and for
benchmarks/data/qa_blind.tsv under "blind".

The holdout was used while tuning the method; the blind set was written by someone who saw neither
the knowledge base nor the other sets, and its misses are deliberately not printed, so that it
stays a fair estimate of accuracy on questions nobody here has seen.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.qa.service import QAService, build_service  # noqa: E402


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a form/topic/alt/question file."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r.get("question", "").strip()]


def evaluate(service: QAService, rows: list[dict[str, str]], repeat: int) -> dict[str, Any]:
    """Accuracy per form and latency percentiles over `repeat` passes."""
    in_total = in_ok = none_total = none_ok = 0
    per_form: dict[str, list[int]] = {}
    misses: list[str] = []
    for row in rows:
        expected = {row["topic"], *filter(None, (row.get("alt") or "").split(","))}
        got = service.answer(row["question"]).topic or "none"
        ok = got in expected
        if row["topic"] == "none":
            none_total += 1
            none_ok += ok
        else:
            in_total += 1
            in_ok += ok
        per_form.setdefault(row["form"], [0, 0])
        per_form[row["form"]][0] += ok
        per_form[row["form"]][1] += 1
        if not ok:
            want = f"[{row['form']}] want {row['topic']} got {got}"
            misses.append(f"  miss {want}: {row['question']}")
    timings: list[float] = []
    started = time.perf_counter()
    for _ in range(repeat):
        for row in rows:
            t0 = time.perf_counter()
            service.answer(row["question"])
            timings.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    timings.sort()
    return {
        "questions": len(rows),
        "in_scope_top1": round(in_ok / in_total, 4) if in_total else None,
        "none_correct": round(none_ok / none_total, 4) if none_total else None,
        "p50_ms": round(statistics.median(timings), 3),
        "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3),
        "per_form": {f: round(ok / n, 4) for f, (ok, n) in sorted(per_form.items())},
        "questions_per_s": round(len(timings) / elapsed, 1),
        "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--tsv", type=Path, default=REPO.parent / "shared" / "qa" / "dev.tsv",
        help="labelled questions (default: <repo>/../shared/qa/dev.tsv)",
    )
    parser.add_argument(
        "--holdout", type=Path, default=REPO / "benchmarks" / "data" / "qa_holdout.tsv",
        help="our own held-out questions, never used for examples",
    )
    parser.add_argument(
        "--blind", type=Path, default=REPO / "benchmarks" / "data" / "qa_blind.tsv",
        help="questions written blind to the knowledge base (misses not printed)",
    )
    parser.add_argument("--repeat", type=int, default=20, help="timing passes over each file")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    service = build_service(REPO)
    startup_s = round(time.perf_counter() - t0, 3)
    print(f"startup (load + index): {startup_s:.3f} s")

    results: dict[str, Any] = {}
    for name, path in (("dev", args.tsv), ("holdout", args.holdout), ("blind", args.blind)):
        res = evaluate(service, read_tsv(path), args.repeat)
        print(f"{name}: {path} ({res['questions']} questions)")
        misses = res.pop("misses")
        for line in misses if name != "blind" else []:
            print(line)
        print(f"  in-scope top-1 {res['in_scope_top1']}, fallback correct {res['none_correct']}, "
              f"p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms, {res['questions_per_s']} q/s")
        print(f"  per form: {res['per_form']}")
        results[name] = res
    summary = {k: v for k, v in results["dev"].items() if k != "questions"}
    summary["startup_s"] = startup_s
    for name in ("holdout", "blind"):
        summary[name] = {k: v for k, v in results[name].items() if k != "questions"}
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
