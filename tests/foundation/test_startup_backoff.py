"""The wait for an unreachable Telegram doubles up to a minute."""

from __future__ import annotations

from bot.startup import backoff


def test_backoff_doubles_and_is_capped_at_a_minute() -> None:
    assert [backoff(i) for i in range(9)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff(10_000) == 60  # no overflow after days of waiting
