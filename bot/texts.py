"""Outgoing text helpers: Telegram refuses messages over 4096 characters."""

from __future__ import annotations

MESSAGE_LIMIT = 4096


def split_for_telegram(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at paragraph, then line, then word boundaries so every part fits `limit`.

    Used only on plain multi-line texts we compose ourselves (lists), never across HTML tags.
    """
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit))
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not parts:
        parts.append(rest)
    return parts
