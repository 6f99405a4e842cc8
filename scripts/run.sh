#!/usr/bin/env bash
# Installs the bot into .venv and runs it (SQLite under ./data, key generated on first start).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/python -m bot run "$@"
