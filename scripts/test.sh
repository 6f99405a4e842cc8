#!/usr/bin/env bash
# Installs everything the tests need into .venv and runs lint, types and the whole test suite.
# PostgreSQL tests start their own server (initdb/pg_ctl); end-to-end tests start ../shared/tta.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -q -rs "$@"
