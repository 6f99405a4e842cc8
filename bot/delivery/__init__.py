"""The one delivery layer: every message the bot sends on its own goes through here."""

from __future__ import annotations

from bot.delivery.pacer import PAID_RPS, LocalPacer, Pacer
from bot.delivery.send import Outcome, Policy, SendResult, never_sent, send_with_retry

__all__ = [
    "PAID_RPS",
    "LocalPacer",
    "Outcome",
    "Pacer",
    "Policy",
    "SendResult",
    "never_sent",
    "send_with_retry",
]
