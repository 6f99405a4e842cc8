"""A minimal, lenient DER reader: enough ASN.1 to recognise containers and walk certificates.

It works on truncated heads (a sniffed upload) and never needs a password, which matters
because real .p12 files are encrypted. Errors are `DerError` (a ValueError).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass


class DerError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    start: int  # first content byte
    end: int  # one past the last content byte (may exceed the buffer if truncated)


def read_tlv(buf: bytes, pos: int) -> Tlv:
    if pos + 2 > len(buf):
        raise DerError("short")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag")
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        # Indefinite (n == 0) is BER-only; >4 length bytes is nonsense for 64 KiB.
        if n == 0 or n > 4 or pos + n > len(buf):
            raise DerError("length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    return Tlv(tag, pos, pos + length)


def children(buf: bytes, parent: Tlv, *, truncated_ok: bool = False) -> Iterator[Tlv]:
    """Direct children of a constructed element; stops quietly at a truncated tail if asked."""
    pos = parent.start
    end = min(parent.end, len(buf)) if truncated_ok else parent.end
    if end > len(buf):
        raise DerError("truncated")
    while pos < end:
        try:
            child = read_tlv(buf, pos)
        except DerError:
            if truncated_ok:
                return
            raise
        if child.end > end and not truncated_ok:
            raise DerError("overrun")
        yield child
        pos = child.end


def content(buf: bytes, tlv: Tlv) -> bytes:
    if tlv.end > len(buf):
        raise DerError("truncated")
    return buf[tlv.start : tlv.end]


def decode_oid(raw: bytes) -> str:
    if not raw:
        raise DerError("empty oid")
    arcs: list[int] = []
    value = 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if raw[-1] & 0x80:
        raise DerError("oid")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def oid_matches(buf: bytes, tlv: Tlv, candidates: tuple[bytes, ...]) -> bool:
    """True if the (possibly truncated) OID body starts with / is a prefix of a candidate."""
    body = buf[tlv.start : min(tlv.end, len(buf))]
    if len(body) < 3:
        return False
    complete = tlv.end <= len(buf)
    for cand in candidates:
        if body.startswith(cand) or (not complete and cand.startswith(body)):
            return True
    return False


def b64decode(text: str) -> bytes | None:
    """Lenient base64 (missing padding, one stray trailing character); None if not base64."""
    body = text.rstrip("=")
    if len(body) % 4 == 1:
        body = body[:-1]  # a stray char can never be valid base64; keep the rest
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
