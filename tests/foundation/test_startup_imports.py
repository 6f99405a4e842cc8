"""What `python -m bot run` imports before its first update leaves out what only some updates or
commands need: Alembic (an empty or current database needs none, storage/fresh_schema.py) and
certificate parsing (cryptography.x509, imported by the first upload)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_running_bot_imports_neither_alembic_nor_x509() -> None:
    code = (
        "import sys\n"
        "import bot.runtime\n"
        "print(sorted(m for m in ('alembic', 'cryptography.x509', 'bot.keys.certificates')\n"
        "             if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=300)
    assert done.stdout.strip() == "[]", done.stderr
