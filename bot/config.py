"""Settings from environment variables and an optional `.env` file (see CONTRACT.md)."""

from __future__ import annotations

import base64
import binascii
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.constants import DEFAULT_TIMEZONE

TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/bot.sqlite3"
DEFAULT_KEY_FILE = Path("data/data.key")


class ConfigError(Exception):
    """A one-line, secret-free description of a bad setting."""


def _decode_key(raw: str, name: str) -> bytes:
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{name} is not valid base64") from exc
    if len(key) != 32:
        raise ValueError(f"{name} must decode to 32 bytes, got {len(key)}")
    return key


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_file_encoding="utf-8")

    bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    # The engine's connection pool (README "Running on PostgreSQL"): connections kept open, and
    # how many more a burst may open; SQLAlchemy's own defaults.
    db_pool_size: int = Field(default=5, ge=1, le=1000)
    db_max_overflow: int = Field(default=10, ge=0, le=1000)
    data_key: SecretStr | None = None
    data_key_old: SecretStr | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    bot_timezone: str = DEFAULT_TIMEZONE
    log_level: str = "INFO"
    # Not in the contract's table but useful for operators and tests.
    reminder_scan_seconds: float = 60.0
    # Messages per second the whole bot sends (reminders, broadcasts, tips together); Telegram
    # allows about 30. BROADCAST_RPS, its earlier name, still works.
    send_rps: float = Field(
        25.0, gt=0, validation_alias=AliasChoices("send_rps", "broadcast_rps")
    )
    throttle_per_minute: int = 30
    # Unanswered questions (redacted, encrypted, no user link) are deleted after this many days.
    unanswered_retention_days: int = Field(default=90, ge=1, le=3650)
    data_dir: Path = Path("data")
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    # Production mode (README "Production"): shared state, observability, shutdown.
    redis_url: SecretStr | None = None
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    log_format: Literal["text", "json"] = "text"
    shutdown_timeout: float = Field(default=20.0, gt=0)
    update_dedup_seconds: float = Field(default=3600.0, gt=0)
    # How long a claim on a reminder or broadcast row outlives an instance that died holding it
    # (kill -9, power loss) before the others take the work over. Unset: 30 reminder scans
    # (20 s to 10 min) for reminders, 2 minutes for broadcasts.
    claim_lease_seconds: float | None = Field(default=None, gt=0)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("must be comma-separated numeric Telegram ids")
            return [int(p) for p in parts]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_RE.match(value.get_secret_value().strip()):
            raise ValueError("is malformed (expected 123456789:ABC..., as given by @BotFather)")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:8081")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _check_db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("data_key", "data_key_old")
    @classmethod
    def _check_data_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            for part in value.get_secret_value().split(","):
                _decode_key(part, "value")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not re.match(r"^(redis|rediss|unix)://", value.get_secret_value().strip()):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("metrics_port", "claim_lease_seconds", mode="before")
    @classmethod
    def _empty_port(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("bot_timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("is not a known IANA time zone (e.g. Asia/Almaty)") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value.upper()

    def claim_lease(self, default: timedelta) -> timedelta:
        """CLAIM_LEASE_SECONDS, or the caller's default when it is not set."""
        if self.claim_lease_seconds is None:
            return default
        return timedelta(seconds=self.claim_lease_seconds)

    def engine_options(self) -> dict[str, int]:
        """Keyword arguments for storage.database.create_engine: the pool settings."""
        return {"pool_size": self.db_pool_size, "max_overflow": self.db_max_overflow}

    def require_token(self) -> str:
        """The bot token, or a ConfigError naming BOT_TOKEN."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ConfigError("BOT_TOKEN is not set: put the token from @BotFather in BOT_TOKEN")
        return self.bot_token.get_secret_value().strip()

    def data_keys(self) -> tuple[bytes, list[bytes]]:
        """The current data key and the old ones; creates ./data/data.key on first start."""
        old = []
        if self.data_key_old is not None and self.data_key_old.get_secret_value().strip():
            old = [
                _decode_key(p, "DATA_KEY_OLD")
                for p in self.data_key_old.get_secret_value().split(",")
                if p.strip()
            ]
        if self.data_key is not None and self.data_key.get_secret_value().strip():
            return _decode_key(self.data_key.get_secret_value(), "DATA_KEY"), old
        return _load_or_create_key_file(self.data_dir / DEFAULT_KEY_FILE.name), old


def _load_or_create_key_file(path: Path) -> bytes:
    try:
        if path.exists():
            return _decode_key(path.read_text(encoding="ascii"), f"key file {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = base64.b64encode(os.urandom(32)).decode("ascii")
        # O_EXCL + 0600: never overwrite an existing key, never world-readable.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(raw + "\n")
        return base64.b64decode(raw)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"DATA_KEY file {path} is unreadable: {reason}") from exc
    except ValueError as exc:
        raise ConfigError(f"DATA_KEY file {path} is malformed: {exc}") from exc


def load_settings() -> Settings:
    """Settings(), with pydantic errors turned into one line naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "configuration"
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name} {msg}") from None
