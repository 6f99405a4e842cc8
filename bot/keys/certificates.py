"""Read public certificate METADATA (dates, owner, purposes) to pre-fill the key dialog.

A user may send the bot a certificate (.cer) to fill in dates automatically. The bytes are
checked for private-key material first (`bot.keys.private_keys`), because names lie.
Certificates that cryptography rejects go through a lenient walk (`bot.keys.der`).

Nothing in this module logs, and `CertInfo` never holds a clear IIN.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Final, Literal

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from bot.constants import KZ_TZ
from bot.keys.der import DerError, Tlv, b64decode, children, content, decode_oid, read_tlv
from bot.keys.private_keys import has_private_pem, is_private_der
from bot.keys.validation import mask_iin

MAX_CERT_BYTES: Final = 64 * 1024
# Validity dates are reported in Kazakhstan time (UTC+5 nationwide since March 2024), which
# is what the NUC personal account shows.

Purpose = Literal["auth", "sign"]
Algorithm = Literal["RSA", "EC", "GOST", "unknown"]
CertErrorCode = Literal["too-big", "private", "unreadable"]


class CertificateError(ValueError):
    """The upload cannot be used as a certificate; `code` is a machine code."""

    def __init__(self, code: CertErrorCode) -> None:
        super().__init__(code)
        self.code: CertErrorCode = code


@dataclass(frozen=True, slots=True)
class CertInfo:
    """Public metadata of one certificate. Holds only a masked IIN, never the clear one."""

    not_before: date | None
    not_after: date | None
    common_name: str | None
    iin_masked: str | None
    bin: str | None
    organization: str | None
    purposes: frozenset[str]
    issuer: str | None
    is_nuc: bool
    serial_hex: str
    algorithm: str
    # Exact end instant (tz-aware) for reminders that care about the hour.
    not_after_at: datetime | None = field(default=None, compare=False)


# --- certificate parsing ---------------------------------------------------------------

_PEM_CERT_RE: Final = re.compile(
    rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.*?)-----END",
    re.DOTALL,
)
_IIN_SERIAL_RE: Final = re.compile(r"^(?:IIN|ИИН|ЖСН)?\s*([0-9]{12})$", re.IGNORECASE)
_BIN_OU_RE: Final = re.compile(r"^(?:BIN|БИН|БСН)\s*([0-9]{12})$", re.IGNORECASE)
_NUC_MARKERS: Final = ("ұлттық куәландырушы орталық", "национальный удостоверяющий центр", "нуц рк")
_NCA_WORD_RE: Final = re.compile(r"\bNCA\b", re.IGNORECASE)

_OID_KEY_USAGE: Final = ExtensionOID.KEY_USAGE.dotted_string
_OID_EXT_KEY_USAGE: Final = ExtensionOID.EXTENDED_KEY_USAGE.dotted_string
_OID_CLIENT_AUTH: Final = ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string
_RSA_OIDS: Final = frozenset({"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10"})
_EC_OIDS: Final = frozenset({"1.2.840.10045.2.1"})
# Kazakh GOST 34.310 / GOST 2015 (1.2.398.3.10…, older 1.2.398.3.6…), Gamma "Tumar" CSP
# (1.3.6.1.4.1.6801…) used by early NUC GOST keys, and Russian GOST R 34.10 (1.2.643…).
_GOST_PREFIXES: Final = ("1.2.398.3.10.", "1.2.398.3.6.", "1.3.6.1.4.1.6801.", "1.2.643.")


@dataclass(slots=True)
class _Parts:
    """Raw fields gathered by either parser before they become a CertInfo."""

    subject: dict[str, list[str]]
    issuer: dict[str, list[str]]
    not_before: datetime | None = None
    not_after: datetime | None = None
    serial: int = 0
    key_oid: str | None = None
    sig_oid: str | None = None
    # KeyUsage flags by name; None when the extension is absent.
    key_usage: frozenset[str] | None = None
    ext_key_usage: frozenset[str] = frozenset()


def parse_certificate(data: bytes) -> CertInfo:
    """Extract metadata from a PEM or DER X.509 certificate.

    Raises CertificateError("too-big" | "private" | "unreadable"). Certificates that
    cryptography rejects (e.g. unusual GOST encodings) go through a lenient DER walk that
    still recovers the validity dates when the structure allows.
    """
    if len(data) > MAX_CERT_BYTES:
        raise CertificateError("too-big")
    der = _to_der(data)
    if is_private_der(der):
        raise CertificateError("private")
    try:
        with warnings.catch_warnings():
            # cryptography warns about over-long name attributes; a user's file is not our bug.
            warnings.simplefilter("ignore")
            parts = _parts_from_cryptography(x509.load_der_x509_certificate(der))
    except Exception:  # untrusted input: any library failure means "try the walk"
        parts = _parts_from_der_walk(der)
    return _build(parts)


def _to_der(data: bytes) -> bytes:
    if has_private_pem(data):
        raise CertificateError("private")
    if b"-----BEGIN" in data:
        m = _PEM_CERT_RE.search(data)
        if m is None:
            raise CertificateError("unreadable")
        der = b64decode(re.sub(rb"\s+", b"", m.group(1)).decode("ascii", "replace"))
        if der is None:
            raise CertificateError("unreadable")
        return der
    # "Base-64 encoded X.509" exports sometimes lack the PEM armour.
    stripped = data.strip()
    if stripped and re.fullmatch(rb"[A-Za-z0-9+/=\s]+", stripped):
        der = b64decode(re.sub(rb"\s+", b"", stripped).decode("ascii"))
        if der is not None and der[:1] == b"\x30":
            return der
    return data


def _parts_from_cryptography(cert: x509.Certificate) -> _Parts:
    parts = _Parts(subject=_name_dict(cert.subject), issuer=_name_dict(cert.issuer))
    parts.not_before = cert.not_valid_before_utc
    parts.not_after = cert.not_valid_after_utc
    parts.serial = cert.serial_number
    parts.key_oid = cert.public_key_algorithm_oid.dotted_string
    parts.sig_oid = cert.signature_algorithm_oid.dotted_string
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        pass
    else:
        flags = {
            "digital_signature": ku.digital_signature,
            "content_commitment": ku.content_commitment,
            "key_encipherment": ku.key_encipherment,
            "key_agreement": ku.key_agreement,
        }
        parts.key_usage = frozenset(k for k, v in flags.items() if v)
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        pass
    else:
        parts.ext_key_usage = frozenset(oid.dotted_string for oid in eku)
    return parts


def _name_dict(name: x509.Name) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for attr in name:
        if isinstance(attr.value, str):
            out.setdefault(attr.oid.dotted_string, []).append(attr.value)
    return out


# KeyUsage BIT STRING positions (RFC 5280 4.2.1.3).
_KU_BITS: Final = {
    0: "digital_signature",
    1: "content_commitment",
    2: "key_encipherment",
    4: "key_agreement",
}


def _parts_from_der_walk(der: bytes) -> _Parts:
    """Lenient walk of Certificate -> tbsCertificate, for what cryptography refuses."""
    try:
        cert = read_tlv(der, 0)
        if cert.tag != 0x30:
            raise DerError("not a sequence")
        tbs = next(children(der, cert))
        if tbs.tag != 0x30:
            raise DerError("no tbs")
        fields = list(children(der, tbs))
        if fields and fields[0].tag == 0xA0:
            fields = fields[1:]  # [0] EXPLICIT version
        if len(fields) < 6 or fields[0].tag != 0x02:
            raise DerError("tbs shape")
        serial_tlv, sig_alg, issuer, validity, subject, spki = fields[:6]
        times = list(children(der, validity))
        if len(times) != 2:
            raise DerError("validity")
        not_before, not_after = (_parse_time(der, t) for t in times)
    except (ValueError, StopIteration, IndexError):  # DerError is a ValueError
        raise CertificateError("unreadable") from None

    parts = _Parts(subject={}, issuer={}, not_before=not_before, not_after=not_after)
    parts.serial = int.from_bytes(content(der, serial_tlv), "big", signed=True)
    # The rest is best effort: dates are the point of the fallback.
    for target, tlv in ((parts.subject, subject), (parts.issuer, issuer)):
        try:
            target.update(_walk_name(der, tlv))
        except _BEST_EFFORT_ERRORS:
            pass
    try:
        parts.sig_oid = _first_oid(der, sig_alg)
        parts.key_oid = _first_oid(der, next(children(der, spki)))
    except _BEST_EFFORT_ERRORS:
        pass
    for extra in fields[6:]:
        if extra.tag == 0xA3:
            try:
                _walk_extensions(der, extra, parts)
            except _BEST_EFFORT_ERRORS:
                pass
    return parts


# Malformed optional parts (bad unpacking, empty sequences, bad text) are skipped.
_BEST_EFFORT_ERRORS: Final = (ValueError, StopIteration, IndexError)


def _first_oid(der: bytes, seq: Tlv) -> str:
    oid = next(children(der, seq))
    if oid.tag != 0x06:
        raise DerError("oid expected")
    return decode_oid(content(der, oid))


def _walk_name(der: bytes, name: Tlv) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rdn in children(der, name):
        for atv in children(der, rdn):
            oid_tlv, value_tlv = list(children(der, atv))[:2]
            text = _decode_string(value_tlv.tag, content(der, value_tlv))
            if text is not None:
                out.setdefault(decode_oid(content(der, oid_tlv)), []).append(text)
    return out


def _decode_string(tag: int, raw: bytes) -> str | None:
    try:
        if tag in (0x0C,):  # UTF8String
            return raw.decode("utf-8")
        if tag in (0x13, 0x16, 0x12):  # Printable, IA5, Numeric
            return raw.decode("ascii")
        if tag == 0x14:  # T61String: latin-1 is the usual practical reading
            return raw.decode("latin-1")
        if tag == 0x1E:  # BMPString
            return raw.decode("utf-16-be")
        if tag == 0x1C:  # UniversalString
            return raw.decode("utf-32-be")
    except UnicodeDecodeError:
        return None
    return None


def _walk_extensions(der: bytes, wrapper: Tlv, parts: _Parts) -> None:
    seq = next(children(der, wrapper))
    for ext in children(der, seq):
        items = list(children(der, ext))
        oid = decode_oid(content(der, items[0]))
        value = items[-1]
        if value.tag != 0x04:
            continue
        inner_buf = content(der, value)
        inner = read_tlv(inner_buf, 0)
        if oid == _OID_KEY_USAGE and inner.tag == 0x03:
            bits = content(inner_buf, inner)[1:]  # skip the unused-bits count
            flags = set()
            for pos, name in _KU_BITS.items():
                byte_i, bit_i = divmod(pos, 8)
                if byte_i < len(bits) and bits[byte_i] & (0x80 >> bit_i):
                    flags.add(name)
            parts.key_usage = frozenset(flags)
        elif oid == _OID_EXT_KEY_USAGE and inner.tag == 0x30:
            parts.ext_key_usage = frozenset(
                decode_oid(content(inner_buf, t))
                for t in children(inner_buf, inner)
                if t.tag == 0x06
            )


def _parse_time(der: bytes, tlv: Tlv) -> datetime:
    """UTCTime (0x17) or GeneralizedTime (0x18), leniently (no seconds, offsets)."""
    text = content(der, tlv).decode("ascii")
    if tlv.tag == 0x17:
        # YYMMDDHHMM[SS]; RFC 5280: YY >= 50 means 19YY.
        m = re.fullmatch(r"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})?", text)
        if not m:
            raise DerError("utctime")
        yy = int(m.group(1))
        year = 1900 + yy if yy >= 50 else 2000 + yy
        rest, tz = m.groups()[1:6], m.group(7)
    elif tlv.tag == 0x18:
        m = re.fullmatch(
            r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?(Z|[+-]\d{4})?", text
        )
        if not m:
            raise DerError("generalizedtime")
        year = int(m.group(1))
        rest, tz = m.groups()[1:6], m.group(7)
    else:
        raise DerError("time tag")
    month, day, hour, minute = (int(x) for x in rest[:4])
    second = int(rest[4] or 0)
    offset: timezone = UTC
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        offset = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])))
    return datetime(year, month, day, hour, minute, second, tzinfo=offset).astimezone(UTC)


def _first(attrs: Mapping[str, Sequence[str]], oid: x509.ObjectIdentifier) -> str | None:
    values = attrs.get(oid.dotted_string)
    return (values[0].strip() or None) if values else None


def _algorithm(*oids: str | None) -> Algorithm:
    for oid in oids:
        if oid is None:
            continue
        if oid in _RSA_OIDS:
            return "RSA"
        if oid in _EC_OIDS:
            return "EC"
        if oid.startswith(_GOST_PREFIXES):
            return "GOST"
    return "unknown"


def _purposes(parts: _Parts) -> frozenset[str]:
    ku = parts.key_usage or frozenset()
    out: set[Purpose] = set()
    # NUC AUTH certificates: digitalSignature + keyEncipherment (keyAgreement on EC keys)
    # and/or the clientAuth EKU. SIGN certificates carry nonRepudiation.
    if ("digital_signature" in ku and ku & {"key_encipherment", "key_agreement"}) or (
        _OID_CLIENT_AUTH in parts.ext_key_usage
    ):
        out.add("auth")
    if "content_commitment" in ku:
        out.add("sign")
    return frozenset(out)


def _is_nuc(issuer: Mapping[str, Sequence[str]]) -> bool:
    texts = [
        *issuer.get(NameOID.COMMON_NAME.dotted_string, []),
        *issuer.get(NameOID.ORGANIZATION_NAME.dotted_string, []),
    ]
    for text in texts:
        folded = text.casefold()
        if any(marker in folded for marker in _NUC_MARKERS) or _NCA_WORD_RE.search(text):
            return True
    return False


def _masked_iin(subject: Mapping[str, Sequence[str]]) -> str | None:
    for value in subject.get(NameOID.SERIAL_NUMBER.dotted_string, []):
        m = _IIN_SERIAL_RE.match(value.strip())
        if m:
            return mask_iin(m.group(1))
    return None


def _bin(subject: Mapping[str, Sequence[str]]) -> str | None:
    for value in subject.get(NameOID.ORGANIZATIONAL_UNIT_NAME.dotted_string, []):
        m = _BIN_OU_RE.match(value.strip())
        if m:
            return m.group(1)
    return None


def _kz_date(moment: datetime | None) -> date | None:
    return moment.astimezone(KZ_TZ).date() if moment else None


def _serial_hex(serial: int) -> str:
    text = format(abs(serial), "x")
    text = text.zfill(len(text) + len(text) % 2)
    return f"-{text}" if serial < 0 else text


def _build(parts: _Parts) -> CertInfo:
    return CertInfo(
        not_before=_kz_date(parts.not_before),
        not_after=_kz_date(parts.not_after),
        common_name=_first(parts.subject, NameOID.COMMON_NAME),
        iin_masked=_masked_iin(parts.subject),
        bin=_bin(parts.subject),
        organization=_first(parts.subject, NameOID.ORGANIZATION_NAME),
        purposes=_purposes(parts),
        issuer=_first(parts.issuer, NameOID.COMMON_NAME),
        is_nuc=_is_nuc(parts.issuer),
        serial_hex=_serial_hex(parts.serial),
        algorithm=_algorithm(parts.key_oid, parts.sig_oid),
        not_after_at=parts.not_after,
    )
