"""Offline check of Telegram's HTML parse mode, so a bad broadcast fails before it is sent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Tags Telegram's HTML parse mode accepts (Bot API "Formatting options").
ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
# Telegram's own limit for message text, counted in UTF-16 code units after parsing.
MESSAGE_LIMIT = 4096

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]*));")
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR = re.compile(r"\s*([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+|[\"']))?")
# Bot API nesting rules: code/pre/custom emoji hold plain text only, and links, code and
# pre may not contain each other; bold, italic etc. nest freely.
_NO_CHILDREN = frozenset({"code", "pre", "tg-emoji"})
_EXCLUSIVE = frozenset({"a", "code", "pre"})


@dataclass
class _Scan:
    plain: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def _decode_entity(text: str, pos: int, scan: _Scan) -> tuple[str, int]:
    """Decode the entity at pos; an unknown or malformed one is reported and kept literally."""
    m = _ENTITY.match(text, pos)
    if m is None:
        scan.errors.append(f"offset {pos}: bare '&' must be written as &amp;")
        return "&", pos + 1
    dec, hexa, name = m.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            scan.errors.append(f"offset {pos}: unknown entity &{name}; (use lt, gt, amp, quot)")
            return m.group(0), m.end()
        return _NAMED_ENTITIES[name], m.end()
    code = int(dec) if dec is not None else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        scan.errors.append(f"offset {pos}: invalid character reference {m.group(0)}")
        return "\ufffd", m.end()
    return chr(code), m.end()


def _unescape_attr(value: str, pos: int, scan: _Scan) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            ch, i = _decode_entity(value, i, scan)
            out.append(ch)
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _parse_attrs(body: str, pos: int, scan: _Scan) -> dict[str, str] | None:
    """Parse `name="value"` pairs; None when the quoting is broken."""
    attrs: dict[str, str] = {}
    i = 0
    while i < len(body) and not body[i:].isspace():
        m = _ATTR.match(body, i)
        if m is None or m.end() == i:
            scan.errors.append(f"offset {pos}: malformed attribute near {body[i : i + 20]!r}")
            return None
        name, raw = m.group(1).lower(), m.group(2)
        if raw is None:
            attrs[name] = ""  # boolean attribute, e.g. <blockquote expandable>
        elif raw[0] in "\"'" and (len(raw) < 2 or raw[-1] != raw[0]):
            scan.errors.append(f"offset {pos}: unclosed quote in attribute {name!r}")
            return None
        elif raw[0] not in "\"'":
            scan.errors.append(f"offset {pos}: value of attribute {name!r} must be quoted")
            return None
        else:
            attrs[name] = _unescape_attr(raw[1:-1], pos, scan)
        i = m.end()
    return attrs


def _check_start(name: str, attrs: dict[str, str], stack: list[str], pos: int, scan: _Scan) -> None:
    """Per-tag attribute and nesting rules of the Bot API."""
    err = scan.errors.append
    if name == "a":
        if not attrs.get("href", "").strip():
            err(f"offset {pos}: <a> needs a non-empty href")
        else:
            scan.links.append(attrs["href"])
    elif name == "span" and attrs.get("class") != "tg-spoiler":
        err(f'offset {pos}: <span> is only allowed as <span class="tg-spoiler">')
    elif name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        err(f"offset {pos}: <tg-emoji> needs a numeric emoji-id")
    elif name == "code" and "class" in attrs:
        if not (stack and stack[-1] == "pre" and attrs["class"].startswith("language-")):
            err(f"offset {pos}: code class 'language-…' is only allowed directly inside <pre>")
    if name == "blockquote" and "blockquote" in stack:
        err(f"offset {pos}: <blockquote> cannot be nested")
    parent = stack[-1] if stack else None
    if parent == "pre" and name == "code":
        return  # <pre><code class="language-x"> is how a language is given
    if parent in _NO_CHILDREN:
        err(f"offset {pos}: <{name}> is not allowed inside <{parent}>")
    elif name in _EXCLUSIVE and (outer := [t for t in stack if t in _EXCLUSIVE]):
        err(f"offset {pos}: <{name}> is not allowed inside <{outer[-1]}>")


def _tag_end(text: str, start: int) -> int:
    """Index of the '>' closing a tag, skipping quoted attribute values; -1 if none."""
    quote = ""
    for j in range(start, len(text)):
        c = text[j]
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == ">":
            return j
    return -1


def _scan(text: str) -> _Scan:
    scan = _Scan()
    stack: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded, i = _decode_entity(text, i, scan)
            scan.plain.append(decoded)
            continue
        if ch == ">":
            scan.errors.append(f"offset {i}: bare '>' must be written as &gt;")
        if ch != "<":
            scan.plain.append(ch)
            i += 1
            continue
        closing = text.startswith("</", i)
        m = _TAG_NAME.match(text, i + 2 if closing else i + 1)
        if m is None:
            scan.errors.append(f"offset {i}: bare '<' must be written as &lt;")
            scan.plain.append(ch)
            i += 1
            continue
        if m.group(0).lower() not in ALLOWED_TAGS:
            slash = "/" if closing else ""
            scan.errors.append(f"offset {i}: unsupported tag <{slash}{m.group(0)}>")
            # Skip the whole unknown tag so its '>' is not reported a second time.
            end = _tag_end(text, m.end())
            i = end + 1 if end != -1 else m.end()
            continue
        name = m.group(0).lower()
        end = _tag_end(text, m.end())
        if end == -1:
            scan.errors.append(f"offset {i}: tag <{name}> has no closing '>' (check quotes)")
            break
        body = text[m.end() : end]
        if closing:
            if body.strip():
                scan.errors.append(f"offset {i}: end tag </{name}> cannot have attributes")
            if not stack or stack[-1] != name:
                expected = f"</{stack[-1]}>" if stack else "no end tag"
                scan.errors.append(f"offset {i}: unmatched </{name}>, expected {expected}")
                if name in stack:  # recover so one mistake is reported once
                    del stack[len(stack) - 1 - stack[::-1].index(name) :]
            else:
                stack.pop()
        else:
            attrs = None
            if body and not body[0].isspace():
                scan.errors.append(f"offset {i}: malformed tag <{name}{body}>")
            else:
                attrs = _parse_attrs(body, i, scan)
            if attrs is not None:
                _check_start(name, attrs, stack, i, scan)
            stack.append(name)
            scan.tags.append(name)
        i = end + 1
    for name in reversed(stack):
        scan.errors.append(f"unclosed tag <{name}>")
    return scan


def validate_telegram_html(text: str, *, allowed_tags: frozenset[str] | None = None) -> list[str]:
    """Return the reasons Telegram would reject text in HTML mode; an empty list means OK."""
    scan = _scan(text)
    if allowed_tags is not None:
        scan.errors += [
            f"tag <{t}> is not allowed here"
            for t in dict.fromkeys(scan.tags)
            if t not in allowed_tags
        ]
    return scan.errors


def extract_links(text: str) -> list[str]:
    """Unescaped href values of all <a> tags, in order."""
    return _scan(text).links


def plain_text(text: str) -> str:
    """Text as the user sees it: tags removed, entities decoded."""
    return "".join(_scan(text).plain)


def visible_length(text: str) -> int:
    """Length in UTF-16 code units after parsing, which is how Telegram counts its limits.

    Telegram also trims surrounding whitespace, so this is a safe upper bound.
    """
    return len(plain_text(text).encode("utf-16-le")) // 2


def check_length(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Errors when the parsed text is empty or longer than limit; an empty list means OK."""
    plain = plain_text(text)
    if not plain.strip():
        return ["message text is empty after parsing"]
    length = len(plain.encode("utf-16-le")) // 2
    return [f"text is {length} UTF-16 units long, limit is {limit}"] if length > limit else []
