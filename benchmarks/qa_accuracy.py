"""Q&A accuracy and latency of the bot's matcher and of a plain TF-IDF k-NN baseline.

Both are trained on the same examples (knowledge-base titles, examples and keywords plus the
training phrasings in knowledge/phrasings/) and asked the same questions:

* dev      ../shared/qa/dev.tsv, the small labelled sample (misses printed);
* holdout  benchmarks/data/qa_holdout.tsv, an older set used while tuning (misses printed);
* blind    benchmarks/data/qa_blind.tsv, written blind to the knowledge base (20 topics);
* unseen   benchmarks/data/qa_unseen.tsv, all topics and out-of-scope questions, written by
           someone who saw neither the knowledge base nor the phrasings.

Blind and unseen are never used for choosing anything (settings are chosen by
benchmarks/qa_crossval.py), and their misses are deliberately not printed, so that they stay a
fair estimate of accuracy on questions nobody here has seen. The baseline's k and fallback
threshold are chosen on benchmarks/data/qa_tuning.tsv.

Last line: one JSON object (see ../shared/CONTRACT.md) with the matcher's dev figures at the top
level, the same figures under "holdout", "blind" and "unseen", and the baseline's under
"baseline".
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from qa_baseline import TfidfKnn  # noqa: E402

from bot.qa.service import build_service  # noqa: E402
from bot.qa.training import NONE_LABEL, load_phrasings, training_examples  # noqa: E402

SETS = ("dev", "holdout", "blind", "unseen")
PRIVATE = ("blind", "unseen")  # misses never printed
Predict = Callable[[str], str | None]


def default_dev() -> Path:
    """../shared/qa/dev.tsv next to the repository (or next to any folder above it)."""
    for parent in REPO.parents:
        candidate = parent / "shared" / "qa" / "dev.tsv"
        if candidate.exists():
            return candidate
    return REPO.parent / "shared" / "qa" / "dev.tsv"


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a form/topic/alt/question file."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r.get("question", "").strip()]


def evaluate(predict: Predict, rows: list[dict[str, str]], repeat: int) -> dict[str, Any]:
    """Accuracy per form and latency percentiles over `repeat` passes."""
    in_total = in_ok = none_total = none_ok = 0
    per_form: dict[str, list[int]] = {}
    misses: list[str] = []
    for row in rows:
        expected = {row["topic"], *filter(None, (row.get("alt") or "").split(","))}
        got = predict(row["question"]) or NONE_LABEL
        ok = got in expected
        if row["topic"] == NONE_LABEL:
            none_total += 1
            none_ok += ok
        else:
            in_total += 1
            in_ok += ok
        per_form.setdefault(row["form"], [0, 0])
        per_form[row["form"]][0] += ok
        per_form[row["form"]][1] += 1
        if not ok:
            misses.append(f"  miss [{row['form']}] want {row['topic']} got {got}: "
                          f"{row['question']}")
    # Wall time is what a user waits; CPU time of this thread is the same work without the
    # time slices other processes on a busy machine take.
    timings: list[float] = []
    cpu: list[float] = []
    started = time.perf_counter()
    for _ in range(repeat):
        for row in rows:
            t0, c0 = time.perf_counter(), time.thread_time()
            predict(row["question"])
            cpu.append((time.thread_time() - c0) * 1000)
            timings.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    timings.sort()
    cpu.sort()
    return {
        "questions": len(rows),
        "in_scope_top1": round(in_ok / in_total, 4) if in_total else None,
        "none_correct": round(none_ok / none_total, 4) if none_total else None,
        "p50_ms": round(statistics.median(timings), 3) if timings else None,
        "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3)
        if timings else None,
        "cpu_p50_ms": round(statistics.median(cpu), 3) if cpu else None,
        "cpu_p99_ms": round(cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))], 3) if cpu else None,
        "per_form": {f: round(ok / n, 4) for f, (ok, n) in sorted(per_form.items())},
        "questions_per_s": round(len(timings) / elapsed, 1) if elapsed else None,
        "misses": misses,
    }


def ask_startup_s(runs: int = 3) -> float:
    """Median wall time of `python -m bot ask --json TEXT` in a fresh interpreter (all of it)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--json", "как продлить ЭЦП"],
            cwd=REPO, env=env, capture_output=True, text=True, check=False,
        )
        times.append(time.perf_counter() - started)
        if done.returncode != 0 or '"topic"' not in done.stdout:
            raise RuntimeError(f"python -m bot ask failed: {done.stderr.strip()[-500:]}")
    return round(statistics.median(times), 3)


def report(name: str, path: Path, res: dict[str, Any]) -> None:
    print(f"  {name}: {path.name} ({res['questions']} questions): in-scope top-1 "
          f"{res['in_scope_top1']}, fallback correct {res['none_correct']}, "
          f"p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms (CPU p99 {res['cpu_p99_ms']} ms)")
    print(f"    per form: {res['per_form']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tsv", type=Path, default=default_dev(),
                        help="the dev set (default: ../shared/qa/dev.tsv)")
    data = REPO / "benchmarks" / "data"
    parser.add_argument("--holdout", type=Path, default=data / "qa_holdout.tsv")
    parser.add_argument("--blind", type=Path, default=data / "qa_blind.tsv")
    parser.add_argument("--unseen", type=Path, default=data / "qa_unseen.tsv")
    parser.add_argument("--tuning", type=Path, default=data / "qa_tuning.tsv",
                        help="where the baseline's k and threshold are chosen")
    parser.add_argument("--repeat", type=int, default=5, help="timing passes over each file")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline")
    args = parser.parse_args(argv)
    paths = dict(zip(SETS, (args.tsv, args.holdout, args.blind, args.unseen), strict=True))
    rows = {name: read_tsv(path) for name, path in paths.items()}

    t0 = time.perf_counter()
    service = build_service(REPO)
    build_s = round(time.perf_counter() - t0, 3)
    ask_s = ask_startup_s()
    print(f"matcher: service build (load knowledge + model) {build_s:.3f} s; "
          f"`python -m bot ask` start-up to first answer {ask_s:.3f} s (median of 3); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    contenders: list[tuple[str, Predict, dict[str, Any]]] = [
        ("matcher", lambda q: service.answer(q).topic, {"startup_s": build_s, "ask_s": ask_s}),
    ]
    if not args.no_baseline:
        t0 = time.perf_counter()
        examples = training_examples(service.kb, load_phrasings(REPO, tuple(service.kb.topics)))
        knn = TfidfKnn([(t, None if lb == NONE_LABEL else lb) for t, lb in examples])
        k, threshold = knn.calibrate(
            [(r["question"], {r["topic"], *filter(None, (r.get("alt") or "").split(","))})
             for r in read_tsv(args.tuning)]
        )
        base_s = round(time.perf_counter() - t0, 3)
        print(f"baseline: char 3-5-gram TF-IDF k-NN, k={k}, fallback below cosine {threshold} "
              f"(chosen on {args.tuning.name}); build + calibration {base_s:.3f} s")
        contenders.append(("baseline", lambda q: knn.predict(q).topic,
                           {"startup_s": base_s, "k": k, "threshold": threshold}))

    summary: dict[str, Any] = {}
    for who, predict, extra in contenders:
        print(f"{who}:")
        figures: dict[str, Any] = {}
        for name in SETS:
            res = evaluate(predict, rows[name], args.repeat)
            misses = res.pop("misses")
            if who == "matcher" and name not in PRIVATE:
                for line in misses:
                    print(line)
            report(name, paths[name], res)
            figures[name] = {k: v for k, v in res.items() if k != "questions"}
        block = {**figures["dev"], **extra}
        for name in SETS[1:]:
            block[name] = figures[name]
        if who == "matcher":
            summary.update(block)
        else:
            summary[who] = block
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
