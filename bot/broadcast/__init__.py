"""Admin broadcasts: the security tips library, an HTML check and the delivery engine."""

from __future__ import annotations

from bot.broadcast.html_check import check_length, validate_telegram_html, visible_length
from bot.broadcast.tips import Tip, TipsError, TipsLibrary, load_tips

__all__ = [
    "Tip",
    "TipsError",
    "TipsLibrary",
    "check_length",
    "load_tips",
    "validate_telegram_html",
    "visible_length",
]
