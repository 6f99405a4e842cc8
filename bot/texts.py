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


# Bidirectional embeddings/overrides/isolates and marks, zero-width characters, the BOM and
# control characters (tabs and line breaks aside): invisible in a chat, yet an override shows
# "‮txt.exe" to the reader as "exe.txt". User text loses them before it is stored or shown.
_INVISIBLE = dict.fromkeys(
    [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), 0x061C, *range(0x200B, 0x2010),
     *range(0x202A, 0x202F), 0x2060, *range(0x2066, 0x206A), 0xFEFF]
)


def clean_text(text: str) -> str:
    """`text` without bidi overrides, zero-width and control characters (keeps \\t and \\n)."""
    return text.translate(_INVISIBLE)
