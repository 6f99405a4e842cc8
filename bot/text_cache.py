"""The cache of parsed Fluent texts (bot/i18n.py ParsedOnce.parse_all): a pickle of the parsed
files under the locales directory, as Python keeps bytecode next to code (ignored by git; the
Docker image writes it at build time, as it compiles the bytecode)."""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import sys
from pathlib import Path

import fluent.syntax.parser
from fluent.syntax import ast

CACHE_DIR = "__pycache__"

logger = logging.getLogger(__name__)


def parser_stamp() -> bytes:
    """What the parsed form depends on besides the texts: Python and the Fluent parser."""
    parts = [sys.version]
    for module in (fluent.syntax.parser, ast):
        stat = os.stat(module.__file__ or "")
        parts.append(f"{module.__file__}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(parts).encode()


def read_cache(path: Path) -> dict[tuple[str, str], ast.Resource] | None:
    try:
        with path.open("rb") as fh:
            found = pickle.load(fh)
    except OSError:  # none yet (or no directory)
        return None
    except Exception as exc:  # a damaged or foreign file: parse again, overwrite it
        logger.warning("ignoring the cache of parsed texts %s: %s", path.name, type(exc).__name__)
        return None
    if isinstance(found, dict) and all(isinstance(v, ast.Resource) for v in found.values()):
        return found
    return None


def write_cache(path: Path, parsed: dict[tuple[str, str], ast.Resource]) -> None:
    """Write atomically (rename); drop caches of older texts. Silent where not writable."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        with temporary.open("wb") as fh:
            pickle.dump(parsed, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
        for old in path.parent.glob("ftl-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
