#!/usr/bin/env bash
# Installs everything the tests need into .venv and runs lint, types and the whole test suite.
# PostgreSQL tests start their own server (initdb/pg_ctl); end-to-end tests start ../shared/tta;
# Redis tests start their own redis-server (installed here with apt-get when missing, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server) \
            >/dev/null \
            || echo "could not install redis-server: the Redis tests will be skipped" >&2
    else
        echo "redis-server is not installed (not root): the Redis tests will be skipped" >&2
    fi
fi
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -q -rs "$@"
