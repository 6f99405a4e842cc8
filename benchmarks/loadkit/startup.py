"""Start-up, piece by piece, in a fresh process: what `python -m bot run` does before its
first getUpdates, timed step by step. Run with `python -X importtime` so the parent can also
split the import time by package. Prints one JSON object.

    python -X importtime benchmarks/loadkit/startup.py TMPDIR
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def main() -> None:
    steps: dict[str, float] = {}
    mark = time.perf_counter()

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps[name] = round(now - mark, 3)
        mark = now

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import aiogram.methods  # noqa: F401
    import aiogram.types  # noqa: F401

    step("import_aiogram")
    import bot.app
    import bot.runtime  # noqa: F401  (everything else `python -m bot run` imports)
    from bot.app import build_dispatcher
    from bot.config import Settings
    from bot.i18n import Translator
    from bot.qa.service import build_service

    # The dispatcher's own cached copy where there is one, so the index is built once.
    build_qa = getattr(bot.app, "default_qa_service", build_service)
    from storage.database import create_engine, create_session_pool, migrate
    from storage.encryption import FieldCipher

    step("import_rest")
    url = f"sqlite+aiosqlite:///{sys.argv[1]}/startup.sqlite3"
    asyncio.run(migrate(url))
    step("migrations")
    build_qa()
    step("qa_index")
    translator = Translator()
    step("translator")
    settings = Settings(_env_file=None, bot_token="4242:BENCH-token-for-start-up-only",
                        database_url=url, data_dir=Path(sys.argv[1]))
    build_dispatcher(settings, create_session_pool(create_engine(url)),
                     FieldCipher(os.urandom(32)), translator)
    step("dispatcher")
    steps["total"] = round(time.perf_counter() - STARTED, 3)
    print(json.dumps(steps))


if __name__ == "__main__":
    main()
