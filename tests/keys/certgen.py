"""Generate realistic-looking test certificates and key containers (never real data).

Shapes follow NUC RK certificates: CN = surname + given name, SERIALNUMBER = "IIN" + 12
digits, optional O and OU = "BIN" + 12 digits, AUTH vs SIGN key usages, issued by a CA
named like the NUC. The IIN/BIN used here are constructed to pass the checksum and belong
to nobody.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KeyType = Literal["rsa", "ec"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

NUC_CA_NAME = "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA) TEST"
UTC = dt.UTC


def control_digit(first11: str) -> int | None:
    """Independent re-implementation of the IIN/BIN control digit, for building fixtures."""
    s = sum(int(c) * w for c, w in zip(first11, range(1, 12), strict=True)) % 11
    if s == 10:
        w2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
        s = sum(int(c) * w for c, w in zip(first11, w2, strict=True)) % 11
        if s == 10:
            return None
    return s


def with_control_digit(first11: str) -> str:
    digit = control_digit(first11)
    if digit is None:
        raise ValueError("no control digit exists for this prefix")
    return first11 + str(digit)


def find_prefix(start: str, *, needs_second_pass: bool, unassignable: bool = False) -> str:
    """Smallest 11-digit prefix >= start whose first weighted sum is 10 (second pass used),
    or not, or whose second sum is 10 too (no valid number exists)."""
    n = int(start)
    w1 = range(1, 12)
    w2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
    while True:
        p = f"{n:011d}"
        first = sum(int(c) * w for c, w in zip(p, w1, strict=True)) % 11
        second = sum(int(c) * w for c, w in zip(p, w2, strict=True)) % 11
        if unassignable:
            if first == 10 and second == 10:
                return p
        elif (first == 10) == needs_second_pass and (first != 10 or second != 10):
            return p
        n += 1


# Born 1 Jan 1985, male, 20th century (7th digit 3).
TEST_IIN = with_control_digit("85010130001")
# Registered Apr 2012, resident legal entity (5th digit 4).
TEST_BIN = with_control_digit("12044000123")


@lru_cache(maxsize=8)
def make_key(key_type: KeyType = "rsa", seed: int = 0) -> PrivateKey:
    """A fresh key per (type, seed); cached because RSA-2048 generation is slow."""
    del seed  # only distinguishes cache entries
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class Issuer:
    name: x509.Name
    key: PrivateKey


def make_ca(common_name: str = NUC_CA_NAME, key_type: KeyType = "rsa") -> Issuer:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
        ]
    )
    return Issuer(name=name, key=make_key(key_type, seed=99))


def subject_name(
    *,
    iin: str | None = TEST_IIN,
    organization: str | None = None,
    bin_: str | None = None,
    common_name: str = "ИВАНОВ ИВАН",
) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.SURNAME, "ИВАНОВ"),
        x509.NameAttribute(NameOID.GIVEN_NAME, "ИВАНОВИЧ"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
    ]
    if iin is not None:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"))
    if organization is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if bin_ is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin_}"))
    return x509.Name(attrs)


def make_cert(
    *,
    purpose: Literal["auth", "sign"] | None = "auth",
    key_type: KeyType = "rsa",
    issuer: Issuer | None = None,
    self_signed: bool = False,
    iin: str | None = TEST_IIN,
    organization: str | None = None,
    bin_: str | None = None,
    not_before: dt.datetime = dt.datetime(2024, 3, 15, 9, 30, tzinfo=UTC),
    not_after: dt.datetime = dt.datetime(2025, 3, 15, 9, 30, tzinfo=UTC),
    serial: int = 0x1A2B3C4D5E6F,
    eku: bool = True,
) -> tuple[x509.Certificate, PrivateKey]:
    """A certificate shaped like a NUC one; returns (certificate, subject private key)."""
    key = make_key(key_type)
    subject = subject_name(iin=iin, organization=organization, bin_=bin_)
    if self_signed:
        signer = Issuer(name=subject, key=key)
    else:
        signer = issuer or make_ca()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer.name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if purpose is not None:
        is_ec = key_type == "ec"
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=purpose == "sign",
                key_encipherment=purpose == "auth" and not is_ec,
                data_encipherment=False,
                key_agreement=purpose == "auth" and is_ec,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        if eku:
            usages = [ExtendedKeyUsageOID.EMAIL_PROTECTION]
            if purpose == "auth":
                usages.insert(0, ExtendedKeyUsageOID.CLIENT_AUTH)
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    cert = builder.sign(signer.key, hashes.SHA256())
    return cert, key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def make_p12(password: bytes | None = b"Qwerty12", key_type: KeyType = "rsa") -> bytes:
    """A .p12 like the NUC issues: private key + its certificate, password-protected."""
    cert, key = make_cert(key_type=key_type)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"AUTH_RSA256", key, cert, None, encryption)


def private_key_pem(key_type: KeyType = "rsa", password: bytes | None = None) -> bytes:
    key = make_key(key_type)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def private_key_der(
    key_type: KeyType = "rsa",
    password: bytes | None = None,
    fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8,
) -> bytes:
    key = make_key(key_type)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.DER, fmt, encryption)


# --- a tiny DER encoder, to build certificates cryptography would not produce -----------


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _len(len(content)) + content


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def set_(*items: bytes) -> bytes:
    return tlv(0x31, b"".join(items))


def integer(n: int) -> bytes:
    return tlv(0x02, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True))


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(0x06, bytes(body))


def utf8(text: str) -> bytes:
    return tlv(0x0C, text.encode("utf-8"))


def printable(text: str) -> bytes:
    return tlv(0x13, text.encode("ascii"))


def bmp(text: str) -> bytes:
    return tlv(0x1E, text.encode("utf-16-be"))


def utctime(text: str) -> bytes:
    return tlv(0x17, text.encode("ascii"))


def gentime(text: str) -> bytes:
    return tlv(0x18, text.encode("ascii"))


def bitstring(data: bytes, unused: int = 0) -> bytes:
    return tlv(0x03, bytes([unused]) + data)


def octets(data: bytes) -> bytes:
    return tlv(0x04, data)


def explicit(n: int, content: bytes) -> bytes:
    return tlv(0xA0 | n, content)


def name(*pairs: tuple[str, bytes]) -> bytes:
    return seq(*(set_(seq(oid(o), value)) for o, value in pairs))


OID_CN = "2.5.4.3"
OID_SERIALNUMBER = "2.5.4.5"
OID_C = "2.5.4.6"
OID_O = "2.5.4.10"
OID_OU = "2.5.4.11"
GOST_2015_512_KEY = "1.2.398.3.10.1.1.2.2"
GOST_2015_512_SIG = "1.2.398.3.10.1.1.2.3.2"


def raw_certificate(
    *,
    version: int | None = 2,
    key_oid: str = GOST_2015_512_KEY,
    sig_oid: str = GOST_2015_512_SIG,
    not_before: bytes | None = None,
    not_after: bytes | None = None,
    issuer_cn: str = "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022",
    subject: bytes | None = None,
    key_usage_bits: int | None = 0b1100_0000,  # digitalSignature + nonRepudiation (SIGN)
    client_auth: bool = False,
    serial: int = 0x4F2A,
) -> bytes:
    """A structurally valid X.509 certificate with fake key and signature bytes.

    Used for GOST-like keys and for certificates cryptography rejects (e.g. version=5).
    """
    extensions = []
    if key_usage_bits is not None:
        ku = bitstring(bytes([key_usage_bits]), unused=1)
        extensions.append(seq(oid("2.5.29.15"), tlv(0x01, b"\xff"), octets(ku)))
    if client_auth:
        eku = seq(oid("1.3.6.1.5.5.7.3.2"), oid("1.3.6.1.5.5.7.3.4"))
        extensions.append(seq(oid("2.5.29.37"), octets(eku)))
    tbs_items = []
    if version is not None:
        tbs_items.append(explicit(0, integer(version)))
    tbs_items += [
        integer(serial),
        seq(oid(sig_oid)),
        name((OID_CN, utf8(issuer_cn)), (OID_C, printable("KZ"))),
        seq(
            not_before if not_before is not None else utctime("240601040000Z"),
            not_after if not_after is not None else utctime("250601040000Z"),
        ),
        subject
        if subject is not None
        else name(
            (OID_CN, utf8("ИВАНОВ ИВАН")),
            (OID_SERIALNUMBER, printable(f"IIN{TEST_IIN}")),
            (OID_C, printable("KZ")),
            (OID_O, utf8('ТОО "АЛЬФА"')),
            (OID_OU, printable(f"BIN{TEST_BIN}")),
        ),
        seq(seq(oid(key_oid)), bitstring(b"\x04\x40" + b"\x11" * 64)),
    ]
    if extensions:
        tbs_items.append(explicit(3, seq(*extensions)))
    tbs = seq(*tbs_items)
    return seq(tbs, seq(oid(sig_oid)), bitstring(b"\x22" * 128))
