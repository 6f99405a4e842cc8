"""`python -m bot.qa.train`: retrain the matcher's model after the knowledge or phrasings change.

Writes knowledge/matcher-model.json (shipped, so that start-up only loads it). With --check it
only says whether the shipped model is current, exiting 1 if it is not. The bot also retrains
by itself at start-up when the model is stale, but slowly.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bot.qa.knowledge import DEFAULT_ROOT, load_knowledge
from bot.qa.model import LinearModel
from bot.qa.training import (
    MODEL_FILE,
    NONE_LABEL,
    fingerprint,
    load_phrasings,
    train_model,
    training_examples,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.qa.train", description=__doc__)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="repository root")
    parser.add_argument("--check", action="store_true", help="only check the shipped model")
    args = parser.parse_args(argv)
    kb = load_knowledge(args.root)
    examples = training_examples(kb, load_phrasings(args.root, tuple(kb.topics)))
    labels = (*kb.topics, NONE_LABEL)
    path = args.root / "knowledge" / MODEL_FILE
    if args.check:
        shipped = LinearModel.load(path)
        current = shipped is not None and shipped.labels == labels and (
            shipped.fingerprint == fingerprint(examples)
        )
        print(f"{path}: {'current' if current else 'stale or missing'}")
        return 0 if current else 1
    started = time.perf_counter()
    model = train_model(examples, labels)
    model.save(path)
    print(f"trained on {len(examples)} examples in {time.perf_counter() - started:.1f} s: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
