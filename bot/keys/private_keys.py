"""Recognising private-key material in files, so it can be refused and never stored.

The bot must never accept a private key or a PKCS#12 container (.p12 holds the private
key). `classify_upload` decides from the file name and mime type alone (so the bot need not
download a .p12 at all); `is_private_der` checks the bytes again because names lie. Text a
user types or pastes is checked by `bot.keys.secrets`.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Final, Literal

from cryptography.hazmat.primitives.serialization import load_der_private_key

from bot.keys.der import DerError, children, content, oid_matches, read_tlv

UploadKind = Literal["certificate", "private", "unknown"]

PRIVATE_EXTENSIONS: Final = frozenset(
    {".p12", ".pfx", ".key", ".jks", ".kdb", ".p8", ".pk8", ".keystore", ".bks", ".jceks"}
)
CERT_EXTENSIONS: Final = frozenset({".cer", ".crt", ".pem", ".der", ".cert"})
PRIVATE_MIMES: Final = frozenset(
    {
        "application/x-pkcs12",
        "application/pkcs12",
        "application/x-pkcs8",
        "application/pkcs8",
        "application/pkcs8-encrypted",
        "application/x-java-keystore",
        "application/x-java-jce-keystore",
    }
)
CERT_MIMES: Final = frozenset(
    {
        "application/pkix-cert",
        "application/x-x509-ca-cert",
        "application/x-x509-user-cert",
        "application/x-x509-cert",
    }
)
# NUC file keys are named AUTH_RSA256_…, RSA256_…, GOSTKNCA_…, GOST512_… (.p12).
_NUC_KEY_NAME_RE: Final = re.compile(
    r"^(?:AUTH_(?:RSA|GOST)|RSA\d*_|GOST(?:KNCA|\d*_))", re.IGNORECASE
)
_PEM_PRIVATE_BYTES_RE: Final = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_JAVA_KEYSTORE_MAGIC: Final = (b"\xfe\xed\xfe\xed", b"\xce\xce\xce\xce")


def has_private_pem(data: bytes) -> bool:
    """True if the bytes hold a PEM private key block (any algorithm, encrypted or not)."""
    return _PEM_PRIVATE_BYTES_RE.search(data) is not None


def classify_upload(filename: str | None, mime: str | None, head: bytes | None) -> UploadKind:
    """Decide what an uploaded document is, from whatever is known.

    Private-key evidence from ANY source wins over certificate evidence: refusing a
    certificate by mistake is cheap, accepting a key is not.
    """
    filename = filename.strip() if filename else None
    ext = PurePosixPath(filename).suffix.lower() if filename else ""
    mime_l = (mime or "").split(";")[0].strip().lower()
    sniffed = _sniff(head) if head else "unknown"

    if ext in PRIVATE_EXTENSIONS or mime_l in PRIVATE_MIMES or sniffed == "private":
        return "private"
    # A NUC key name with a non-certificate extension (renamed .p12) is still a key.
    if filename and ext not in CERT_EXTENSIONS and _NUC_KEY_NAME_RE.match(filename):
        return "private"
    if ext in CERT_EXTENSIONS or mime_l in CERT_MIMES or sniffed == "certificate":
        return "certificate"
    return "unknown"


def _sniff(head: bytes) -> UploadKind:
    """Content sniff of a (possibly truncated) file head."""
    if has_private_pem(head):
        return "private"
    if b"-----BEGIN" in head and re.search(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE", head):
        return "certificate"
    return der_shape(head)


# DER-encoded OID bodies (without tag/length), compared as byte prefixes so a truncated
# head still matches. PKCS#7 data / signedData open a PKCS#12 PFX; PKCS#5 (PBES2) and
# PKCS#12 PBE schemes open an EncryptedPrivateKeyInfo.
_PFX_CONTENT_OIDS: Final = (
    bytes.fromhex("2a864886f70d010701"),  # 1.2.840.113549.1.7.1
    bytes.fromhex("2a864886f70d010702"),  # 1.2.840.113549.1.7.2
)
_KEY_ENCRYPTION_OID_PREFIXES: Final = (
    bytes.fromhex("2a864886f70d0105"),  # 1.2.840.113549.1.5 (PKCS#5)
    bytes.fromhex("2a864886f70d010c01"),  # 1.2.840.113549.1.12.1 (PKCS#12 PBE)
)


def der_shape(buf: bytes) -> UploadKind:
    """Recognise certificate vs private-key containers from their ASN.1 skeleton.

    Works on a truncated head, and without any password, which matters because real .p12
    files are encrypted and cryptography cannot open them without one.
    """
    if buf[:4] in _JAVA_KEYSTORE_MAGIC:
        return "private"
    try:
        outer = read_tlv(buf, 0)
        if outer.tag != 0x30:
            return "unknown"
        kids = []
        for kid in children(buf, outer, truncated_ok=True):
            kids.append(kid)
            if len(kids) == 3:
                break
        if not kids:
            return "unknown"
        first = kids[0]
        second = kids[1] if len(kids) >= 2 else None
        if first.tag == 0x30:
            inner = next(children(buf, first, truncated_ok=True), None)
            if inner is None:
                return "unknown"
            if inner.tag == 0x06 and (
                (second is not None and second.tag == 0x04)
                or oid_matches(buf, inner, _KEY_ENCRYPTION_OID_PREFIXES)
            ):
                # EncryptedPrivateKeyInfo: AlgorithmIdentifier (a PBE scheme) + OCTET STRING.
                return "private"
            if inner.tag in (0xA0, 0x02):
                # tbsCertificate starts with [0] version or the serial number.
                return "certificate"
            return "unknown"
        if first.tag == 0x02 and first.end <= len(buf) and second is not None:
            version = int.from_bytes(content(buf, first), "big")
            if version == 3 and second.tag == 0x30:
                oid_tlv = next(children(buf, second, truncated_ok=True), None)
                if (
                    oid_tlv is not None
                    and oid_tlv.tag == 0x06
                    and oid_matches(buf, oid_tlv, _PFX_CONTENT_OIDS)
                ):
                    return "private"  # PKCS#12 PFX
            if version in (0, 1) and second.tag in (0x30, 0x02, 0x04):
                # PKCS#8 (version, AlgorithmIdentifier), PKCS#1 RSA (0, modulus),
                # SEC1 EC (1, OCTET STRING private scalar).
                return "private"
    except DerError:
        return "unknown"
    return "unknown"


def is_private_der(der: bytes) -> bool:
    """True if DER bytes are a private key or a key container, encrypted or not."""
    if der_shape(der) == "private":
        return True
    try:
        load_der_private_key(der, password=None)
        return True
    except TypeError:
        return True  # "password required": an encrypted private key
    except Exception:
        pass  # any parse failure just means "not a bare key"
    # Imported here: pkcs12 brings cryptography.x509 (~20 ms, 1.6 MB) that start-up can skip.
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        pkcs12.load_key_and_certificates(der, None)
        return True
    except Exception:
        return False  # unparseable, or encrypted: the shape test above covers that case
