"""Logging that can never print the bot token or the data key."""

from __future__ import annotations

import logging


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


def setup_logging(level: str, secrets: list[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # aiohttp access logs and aiogram's per-update lines carry chat ids: keep them quiet.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("aiogram.dispatcher").addFilter(OneLinePerPollingFailure())
    # APScheduler logs every run of the minute scans at INFO: noise, not news.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
