"""CPU cost of answering one free-text question, against the cost of just folding its text.

Asks QAService.answer (the handler's call: taught phrasings, the matcher, the answer text) and
Matcher.match alone every question of ../shared/qa/dev.tsv and benchmarks/data/qa_holdout.tsv
(the sets benchmarks/qa_accuracy.py prints misses for), several passes; a pass's CPU time
(time.process_time) over the number of questions is µs per question, and the best pass is kept,
so other processes on the machine barely move it; the three calls take turns in each pass. The
first pass is also shown on its own: answer's starts with empty per-word caches (stems,
concepts, transliteration), as a fresh bot process does (match's then finds them filled).

The floor, timed the same way in the same run: folding and splitting the text with the standard
library alone (lowercase, the Kazakh and Russian letter folds, the word regex), which any
matcher has to do and which no change to bot/qa moves. The ratio answer / floor is what to
compare between two versions; their absolute µs depend on the machine's load.

Also: the memory the service holds once built (tracemalloc, KiB), for precomputed tables.

    python benchmarks/qa_speed.py [--passes 9]

Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from qa_accuracy import default_dev, read_tsv  # noqa: E402

from bot.qa.service import build_service  # noqa: E402

_FOLD = str.maketrans(
    {"ә": "а", "қ": "к", "ұ": "у", "ү": "у", "ө": "о", "ғ": "г", "ң": "н", "і": "и", "һ": "х",
     "ё": "е", "э": "е", "й": "и", "ы": "и", "ъ": "", "ь": ""}
)
_WORD = re.compile(r"[0-9a-zа-я]+")


def fold_floor(text: str) -> list[str]:
    """Lowercase, fold, split: the least any matcher does with a question."""
    return _WORD.findall(text.lower().translate(_FOLD))


def per_question_us(calls: dict[str, Callable[[str], object]], questions: Sequence[str],
                    passes: int) -> dict[str, tuple[float, float]]:
    """Name -> (first pass, best pass) CPU µs per question; the calls take turns each pass."""
    costs: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(passes):
        for name, call in calls.items():
            gc.collect()
            started = time.process_time()
            for q in questions:
                call(q)
            costs[name].append((time.process_time() - started) / len(questions) * 1e6)
    return {name: (round(c[0], 1), round(min(c), 1)) for name, c in costs.items()}


def held_kib() -> int:
    """KiB a freshly built service holds (knowledge, model, tables), by tracemalloc."""
    gc.collect()
    tracemalloc.start()
    service = build_service(REPO)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del service
    return round(held / 1024)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tsv", type=Path, default=default_dev())
    parser.add_argument("--holdout", type=Path,
                        default=REPO / "benchmarks" / "data" / "qa_holdout.tsv")
    parser.add_argument("--passes", type=int, default=9)
    args = parser.parse_args(argv)
    questions = [r["question"] for path in (args.tsv, args.holdout) for r in read_tsv(path)]

    service = build_service(REPO)
    # One-off costs (the fallback texts' Fluent bundles) out of the first pass.
    service.answer("какая погода завтра")
    timed = per_question_us({"answer": service.answer, "match": service.matcher.match,
                             "floor": fold_floor}, questions, args.passes)
    (answer_first, answer_us), (match_first, match_us) = timed["answer"], timed["match"]
    floor_us = timed["floor"][1]
    figures = {
        "questions": len(questions),
        "passes": args.passes,
        "answer_us": answer_us,
        "answer_first_pass_us": answer_first,
        "match_us": match_us,
        "match_first_pass_us": match_first,
        "floor_us": floor_us,
        "answer_over_floor": round(answer_us / floor_us, 1),
        "match_over_floor": round(match_us / floor_us, 1),
        "service_kib": held_kib(),
    }
    print(f"{len(questions)} questions ({args.tsv.name}, {args.holdout.name}), best of "
          f"{args.passes} passes, CPU µs per question:")
    print(f"  QAService.answer {answer_us} (first pass {answer_first}), Matcher.match "
          f"{match_us} (first pass {match_first})")
    print(f"  floor (lowercase + fold + split, stdlib only) {floor_us}: answer is "
          f"{figures['answer_over_floor']}x the floor, match {figures['match_over_floor']}x")
    print(f"  a built service holds {figures['service_kib']} KiB (tracemalloc)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
