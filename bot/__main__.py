"""Command line: python -m bot run | migrate | ask | rotate-key."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys

from bot.constants import LANGUAGES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Kilt: a Telegram assistant that keeps EDS (ЭЦҚ/ЭЦП) keys safe. "
        "Configuration comes from environment variables or a .env file (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="start the bot (long polling; migrates the database first)")
    run.add_argument(
        "--webhook", action="store_true",
        help="serve a webhook instead of polling (needs WEBHOOK_URL; see README)",
    )
    sub.add_parser("migrate", help="bring the database schema up to date and exit")
    ask = sub.add_parser(
        "ask", help="answer questions from TEXT or from stdin, one per line (no token needed)"
    )
    ask.add_argument("text", nargs="?", metavar="TEXT", help="the question; omit to read stdin")
    ask.add_argument("--lang", choices=list(LANGUAGES), help="answer in this language")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    sub.add_parser(
        "rotate-key",
        help="re-encrypt all data under DATA_KEY (old keys given in DATA_KEY_OLD) and exit",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "ask":
        from bot.qa.cli import run_ask

        return run_ask(args.text, args.lang, args.json, sys.stdin, sys.stdout)
    # Imported here: `ask` needs no settings, and pydantic would double its start-up.
    from bot.config import ConfigError, load_settings

    try:
        settings = load_settings()
        from bot.logging_setup import setup_logging

        secrets = [
            s.get_secret_value()
            for s in (settings.bot_token, settings.redis_url, settings.webhook_secret)
            if s is not None
        ]
        setup_logging(settings.log_level, secrets, settings.log_format)
        if args.command == "migrate":
            from storage.database import migrate_sync

            settings.data_keys()  # first start: create ./data/data.key too
            migrate_sync(settings.database_url)
            print("database is up to date")
            return 0
        if args.command == "rotate-key":
            from storage.rotation import rotate_all

            counts = asyncio.run(rotate_all(settings))
            print("re-encrypted: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
            return 0
        settings.require_token()
        from bot.runtime import main as run_main
        from bot.startup import TokenRejected

        # The ~300 pydantic models aiogram defines at import make each full garbage collection
        # take 0.2-1 s (their validators are deep object graphs). They live as long as the
        # process: move them out of the collector's reach so a collection is a few ms again.
        gc.freeze()
        try:
            asyncio.run(run_main(settings, webhook=args.webhook))
        except TokenRejected as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
