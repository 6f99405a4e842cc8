"""Start-up, piece by piece, in a fresh process: what `python -m bot run` does before its
first getUpdates, timed step by step. Run with `python -X importtime` so the parent can also
split the import time by package. Prints one JSON object.

It mirrors bot/__main__.py and bot/runtime.py: gc.freeze() right after the imports (without it
a full collection over aiogram's models, 0.1-0.3 s, lands in whichever step comes next, which
the real start-up never pays), the one Q&A index handed to the dispatcher (not a second one
built inside it), and the texts step includes the command menus formatted before the first
getUpdates (register_commands), where the Fluent bundles are first used.

Each step is timed twice: wall clock, and the process's CPU time ("cpu", all threads), which
on a busy shared machine says what the step itself costs rather than how long it waited for
a core.

    python -X importtime benchmarks/loadkit/startup.py TMPDIR
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def main() -> None:
    steps: dict[str, Any] = {}
    cpu: dict[str, float] = {}
    mark, cpu_mark = time.perf_counter(), time.process_time()

    def step(name: str) -> None:
        nonlocal mark, cpu_mark
        now, cpu_now = time.perf_counter(), time.process_time()
        steps[name], cpu[name] = round(now - mark, 3), round(cpu_now - cpu_mark, 3)
        mark, cpu_mark = now, cpu_now

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import aiogram.methods  # noqa: F401
    import aiogram.types  # noqa: F401

    step("import_aiogram")
    import bot.runtime  # noqa: F401  (everything else `python -m bot run` imports)
    from bot.app import USER_COMMANDS, _commands, build_dispatcher
    from bot.config import Settings
    from bot.i18n import LANGUAGES, Translator
    from bot.qa.service import build_service
    from storage.database import create_engine, create_session_pool, migrate
    from storage.encryption import FieldCipher

    gc.freeze()  # as bot/__main__.py does before asyncio.run(main)
    step("import_rest")
    url = f"sqlite+aiosqlite:///{sys.argv[1]}/startup.sqlite3"
    asyncio.run(migrate(url))
    step("migrations")
    qa = build_service()
    step("qa_index")
    translator = Translator()
    for lang in LANGUAGES:  # what register_commands formats before the first getUpdates
        _commands(translator, lang, USER_COMMANDS)
    step("translator")
    settings = Settings(_env_file=None, bot_token="4242:BENCH-token-for-start-up-only",
                        database_url=url, data_dir=Path(sys.argv[1]))
    build_dispatcher(settings, create_session_pool(create_engine(url)),
                     FieldCipher(os.urandom(32)), translator, qa=qa)
    bot.runtime.settle_heap()
    step("dispatcher")
    steps["total"] = round(time.perf_counter() - STARTED, 3)
    cpu["total"] = round(time.process_time(), 3)
    steps["cpu"] = cpu
    print(json.dumps(steps))


if __name__ == "__main__":
    main()
