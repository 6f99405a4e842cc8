"""Admin broadcasts: the security tips library, an HTML check and the send pacer."""

from __future__ import annotations

from bot.broadcast.html_check import check_length, validate_telegram_html, visible_length
from bot.broadcast.pacing import Pacer
from bot.broadcast.tips import Tip, TipsError, TipsLibrary, load_tips

__all__ = [
    "Pacer",
    "Tip",
    "TipsError",
    "TipsLibrary",
    "check_length",
    "load_tips",
    "validate_telegram_html",
    "visible_length",
]
