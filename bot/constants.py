"""Values the whole bot agrees on, defined once."""

from __future__ import annotations

from typing import Final, Literal
from zoneinfo import ZoneInfo

Lang = Literal["kk", "ru"]
# Kazakh first: it is the state language, and the order menus and files are listed in.
LANGUAGES: Final[tuple[Lang, ...]] = ("kk", "ru")
# Kazakhstan is on UTC+5 nationwide since 1 March 2024; tzdata knows this.
DEFAULT_TIMEZONE: Final = "Asia/Almaty"
KZ_TZ: Final = ZoneInfo(DEFAULT_TIMEZONE)
