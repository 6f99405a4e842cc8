"""Logging that can never print the bot token or the data key; text or JSON lines."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

# (correlation id, update_id) of the update being handled; set by bot.metrics.ObserveUpdates.
update_context: ContextVar[tuple[str, int] | None] = ContextVar("update_context", default=None)


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            redacted = message
            for secret in self.secrets:
                redacted = redacted.replace(secret, "***")
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


class OneLinePerPollingFailure(logging.Filter):
    """aiogram logs each failed getUpdates twice ("Failed to fetch updates …", then "Sleep for
    … and try again"); the first line says it all, the backoff is aiogram's own (1–5 s)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Sleep for ")


class UpdateContext(logging.Filter):
    """Adds `correlation_id` and `update_id` (None outside an update) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = update_context.get()
        record.correlation_id, record.update_id = current if current else (None, None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, correlation_id, update_id[, exc]."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None),
            "update_id": getattr(record, "update_id", None),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def make_handler(secrets: list[str], fmt: str = "text") -> logging.Handler:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(UpdateContext())
    return handler


def setup_logging(level: str, secrets: list[str], fmt: str = "text") -> None:
    logging.basicConfig(level=level, handlers=[make_handler(secrets, fmt)], force=True)
    # aiohttp access logs and aiogram's per-update lines carry chat ids: keep them quiet.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("aiogram.dispatcher").addFilter(OneLinePerPollingFailure())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # APScheduler logs every run of the minute scans at INFO: noise, not news.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
