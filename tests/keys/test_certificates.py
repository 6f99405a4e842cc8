from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import random
import textwrap
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from bot.keys import certificates as certs
from bot.keys.certificates import MAX_CERT_BYTES, CertificateError, CertInfo, parse_certificate
from bot.keys.private_keys import classify_upload
from bot.keys.secrets import looks_like_private_key_text, looks_like_secret
from tests.keys.certgen import (
    GOST_2015_512_KEY,
    OID_CN,
    OID_SERIALNUMBER,
    TEST_BIN,
    TEST_IIN,
    bmp,
    der,
    gentime,
    integer,
    make_ca,
    make_cert,
    make_p12,
    name,
    pem,
    printable,
    private_key_der,
    private_key_pem,
    raw_certificate,
    seq,
    utctime,
)

UTC = dt.UTC
TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL
ORG = 'ТОО "АЛЬФА"'


def _assert_no_iin(info: CertInfo) -> None:
    blob = repr(info) + str(info) + repr(dataclasses.astuple(info))
    assert TEST_IIN not in blob
    # Not even the birth-date/serial middle part may leak.
    assert TEST_IIN[2:10] not in blob


# --- parse_certificate: cryptography path ----------------------------------------------


def test_rsa_auth_certificate_of_employee() -> None:
    cert, _ = make_cert(purpose="auth", organization=ORG, bin_=TEST_BIN)
    info = parse_certificate(pem(cert))
    assert info.not_before == dt.date(2024, 3, 15)
    assert info.not_after == dt.date(2025, 3, 15)
    assert info.not_after_at == dt.datetime(2025, 3, 15, 9, 30, tzinfo=UTC)
    assert info.common_name == "ИВАНОВ ИВАН"
    assert info.iin_masked == "85••••••••15"
    assert info.bin == TEST_BIN
    assert info.organization == ORG
    assert info.purposes == frozenset({"auth"})
    assert info.issuer == "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA) TEST"
    assert info.is_nuc
    assert info.serial_hex == "1a2b3c4d5e6f"
    assert info.algorithm == "RSA"
    _assert_no_iin(info)


def test_der_and_pem_give_the_same_result() -> None:
    cert, _ = make_cert()
    assert parse_certificate(der(cert)) == parse_certificate(pem(cert))


def test_rsa_sign_certificate() -> None:
    cert, _ = make_cert(purpose="sign")
    info = parse_certificate(der(cert))
    assert info.purposes == frozenset({"sign"})
    assert info.organization is None
    assert info.bin is None


def test_ec_auth_uses_key_agreement() -> None:
    cert, _ = make_cert(purpose="auth", key_type="ec", eku=False)
    info = parse_certificate(der(cert))
    assert info.algorithm == "EC"
    assert info.purposes == frozenset({"auth"})


def test_ec_sign_self_signed() -> None:
    cert, _ = make_cert(purpose="sign", key_type="ec", self_signed=True)
    info = parse_certificate(pem(cert))
    assert info.algorithm == "EC"
    assert info.purposes == frozenset({"sign"})
    assert info.issuer == "ИВАНОВ ИВАН"
    assert not info.is_nuc


def test_auth_from_client_auth_eku_alone() -> None:
    data = raw_certificate(key_usage_bits=None, client_auth=True)
    assert parse_certificate(data).purposes == frozenset({"auth"})


def test_no_usage_extensions_means_unknown_purpose() -> None:
    cert, _ = make_cert(purpose=None)
    assert parse_certificate(der(cert)).purposes == frozenset()


def test_digital_signature_alone_is_not_auth() -> None:
    data = raw_certificate(key_usage_bits=0b1000_0000)
    assert parse_certificate(data).purposes == frozenset()


def test_certificate_without_iin() -> None:
    cert, _ = make_cert(iin=None)
    assert parse_certificate(der(cert)).iin_masked is None


def test_dates_are_kazakhstan_dates() -> None:
    # 20:00 UTC is 01:00 next day in Almaty (UTC+5).
    cert, _ = make_cert(
        not_before=dt.datetime(2024, 3, 14, 20, 0, tzinfo=UTC),
        not_after=dt.datetime(2025, 3, 14, 20, 0, tzinfo=UTC),
    )
    info = parse_certificate(der(cert))
    assert info.not_before == dt.date(2024, 3, 15)
    assert info.not_after == dt.date(2025, 3, 15)
    assert info.not_after_at == dt.datetime(2025, 3, 14, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("issuer_cn", "expected"),
    [
        ("ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA)", True),
        ("ұлттық куәландырушы орталық (GOST) 2022", True),
        ("НАЦИОНАЛЬНЫЙ УДОСТОВЕРЯЮЩИЙ ЦЕНТР (RSA)", True),
        ("NCA RK TEST", True),
        ("FINANCA Root CA", False),
        ("Some Commercial CA", False),
    ],
)
def test_is_nuc(issuer_cn: str, expected: bool) -> None:
    # Raw DER: cryptography refuses to BUILD names over 64 UTF-8 bytes, real NUC CAs have them.
    data = raw_certificate(issuer_cn=issuer_cn)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # loading such names must not warn into the bot's logs
        info = parse_certificate(data)
    assert info.is_nuc is expected
    assert info.issuer == issuer_cn


def test_is_nuc_with_generated_ca() -> None:
    cert, _ = make_cert(issuer=make_ca("NCA RK (RSA) TEST"))
    assert parse_certificate(der(cert)).is_nuc


def test_gost_key_loaded_by_cryptography() -> None:
    data = raw_certificate(version=2)
    x509.load_der_x509_certificate(data)  # the library itself accepts the structure
    info = parse_certificate(data)
    assert info.algorithm == "GOST"
    assert info.purposes == frozenset({"sign"})
    assert info.is_nuc
    _assert_no_iin(info)


def test_base64_without_pem_armour() -> None:
    cert, _ = make_cert()
    text = "\n".join(textwrap.wrap(base64.b64encode(der(cert)).decode(), 64)).encode()
    assert parse_certificate(text) == parse_certificate(der(cert))


def test_pem_with_surrounding_text() -> None:
    cert, _ = make_cert()
    data = b"Bag Attributes\n    friendlyName: test\n" + pem(cert) + b"\ntrailing"
    assert parse_certificate(data).common_name == "ИВАНОВ ИВАН"


def test_negative_serial_hex() -> None:
    assert certs._serial_hex(-0x80) == "-80"
    assert certs._serial_hex(0x1) == "01"
    assert certs._serial_hex(0xABC) == "0abc"


# --- parse_certificate: refusals and errors --------------------------------------------


@pytest.mark.parametrize(
    "blob_factory",
    [
        lambda: make_p12(b"Qwerty12"),
        lambda: make_p12(None),
        lambda: make_p12(b"Qwerty12", key_type="ec"),
        lambda: private_key_pem(),
        lambda: private_key_pem("ec", password=b"Secret123"),
        lambda: private_key_der(),
        lambda: private_key_der("ec"),
        lambda: private_key_der(password=b"Secret123"),
        lambda: private_key_der(fmt=serialization.PrivateFormat.TraditionalOpenSSL),
        lambda: private_key_der("ec", fmt=serialization.PrivateFormat.TraditionalOpenSSL),
        lambda: pem(make_cert()[0]) + private_key_pem(),
        lambda: b"\xfe\xed\xfe\xed" + b"\x00" * 60,
    ],
    ids=[
        "p12-encrypted",
        "p12-plain",
        "p12-ec",
        "pem-pkcs8",
        "pem-encrypted-ec",
        "der-pkcs8",
        "der-pkcs8-ec",
        "der-encrypted-pkcs8",
        "der-pkcs1",
        "der-sec1",
        "pem-cert-plus-key",
        "jks",
    ],
)
def test_private_material_is_refused(blob_factory: object) -> None:
    assert callable(blob_factory)
    with pytest.raises(CertificateError) as exc:
        parse_certificate(blob_factory())
    assert exc.value.code == "private"


def test_too_big() -> None:
    with pytest.raises(CertificateError) as exc:
        parse_certificate(b"0" * (MAX_CERT_BYTES + 1))
    assert exc.value.code == "too-big"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello world",
        b"\x30\x03\x02\x01\x01",
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        seq(seq(integer(1))),
    ],
    ids=["empty", "text", "tiny-der", "pem-public-key", "pem-garbage", "wrong-shape"],
)
def test_unreadable(data: bytes) -> None:
    with pytest.raises(CertificateError) as exc:
        parse_certificate(data)
    assert exc.value.code == "unreadable"


def test_truncated_certificate_is_unreadable() -> None:
    cert, _ = make_cert()
    with pytest.raises(CertificateError) as exc:
        parse_certificate(der(cert)[:300])
    assert exc.value.code == "unreadable"


# --- DER fallback ----------------------------------------------------------------------


def test_fallback_when_cryptography_rejects_version() -> None:
    data = raw_certificate(version=5, client_auth=True, key_usage_bits=0b1010_0000)
    with pytest.raises(x509.InvalidVersion):
        x509.load_der_x509_certificate(data)
    info = parse_certificate(data)
    assert info.not_before == dt.date(2024, 6, 1)
    assert info.not_after == dt.date(2025, 6, 1)
    assert info.common_name == "ИВАНОВ ИВАН"
    assert info.iin_masked == "85••••••••15"
    assert info.bin == TEST_BIN
    assert info.organization == ORG
    assert info.issuer == "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022"
    assert info.is_nuc
    assert info.algorithm == "GOST"
    assert info.purposes == frozenset({"auth"})
    assert info.serial_hex == "4f2a"
    _assert_no_iin(info)


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
@pytest.mark.parametrize("purpose", ["auth", "sign"])
def test_fallback_walk_matches_cryptography(key_type: str, purpose: str) -> None:
    cert, _ = make_cert(
        purpose=purpose,  # type: ignore[arg-type]
        key_type=key_type,  # type: ignore[arg-type]
        organization=ORG,
        bin_=TEST_BIN,
    )
    walked = certs._build(certs._parts_from_der_walk(der(cert)))
    assert walked == parse_certificate(der(cert))
    assert walked.not_after_at == dt.datetime(2025, 3, 15, 9, 30, tzinfo=UTC)


def test_fallback_time_variants_and_bmp_names() -> None:
    subject = name((OID_CN, bmp("ИВАНОВ ИВАН")), (OID_SERIALNUMBER, printable(f"IIN{TEST_IIN}")))
    data = raw_certificate(
        version=5,
        not_before=utctime("9912312359Z"),  # no seconds, year 1999 (YY >= 50)
        not_after=gentime("20260101003000.5+0500"),  # fraction and offset
        subject=subject,
        key_oid=GOST_2015_512_KEY,
        key_usage_bits=None,
    )
    info = parse_certificate(data)
    assert info.not_before == dt.date(2000, 1, 1)  # 23:59 UTC is 04:59 next day in Almaty
    assert info.not_after_at == dt.datetime(2025, 12, 31, 19, 30, tzinfo=UTC)
    assert info.not_after == dt.date(2026, 1, 1)
    assert info.common_name == "ИВАНОВ ИВАН"
    assert info.iin_masked == "85••••••••15"
    assert info.purposes == frozenset()


def test_fallback_without_readable_validity_is_unreadable() -> None:
    data = raw_certificate(version=5, not_after=utctime("garbage"))
    with pytest.raises(CertificateError) as exc:
        parse_certificate(data)
    assert exc.value.code == "unreadable"


def test_fallback_unknown_algorithm() -> None:
    data = raw_certificate(version=5, key_oid="1.3.101.112", sig_oid="1.3.101.112")
    assert parse_certificate(data).algorithm == "unknown"


def test_fallback_accepts_ber_long_form_length() -> None:
    # Some old tools emit non-minimal lengths; strict DER parsers reject them.
    cert, _ = make_cert()
    data = der(cert)
    assert data[1] == 0x82
    body = data[4:]
    ber = b"\x30\x84" + len(body).to_bytes(4, "big") + body
    with pytest.raises(ValueError):
        x509.load_der_x509_certificate(ber)
    assert parse_certificate(ber) == parse_certificate(data)


# --- classify_upload -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "mime", "expected"),
    [
        ("AUTH_RSA256_9f8e7d.p12", "application/x-pkcs12", "private"),
        ("RSA256_9f8e7d.p12", None, "private"),
        ("GOSTKNCA_abcdef.P12", "application/octet-stream", "private"),
        ("key.pfx", None, "private"),
        ("id.key", None, "private"),
        ("store.jks", None, "private"),
        ("kalkan.kdb", None, "private"),
        (None, "application/x-pkcs12", "private"),
        (None, "application/pkcs12", "private"),
        ("AUTH_RSA256_9f8e7d", None, "private"),
        ("GOSTKNCA_abcdef.bin", None, "private"),
        ("my.cer", "application/pkix-cert", "certificate"),
        ("my.CRT", None, "certificate"),
        ("my.pem", "application/x-pem-file", "certificate"),
        ("my.der", None, "certificate"),
        ("AUTH_RSA256_9f8e7d.cer", None, "certificate"),
        (None, "application/x-x509-ca-cert", "certificate"),
        ("photo.jpg", "image/jpeg", "unknown"),
        ("GOSTandards.pdf", "application/pdf", "unknown"),
        (None, None, "unknown"),
        ("", "", "unknown"),
    ],
)
def test_classify_by_name_and_mime(filename: str | None, mime: str | None, expected: str) -> None:
    assert classify_upload(filename, mime, None) == expected


def test_private_evidence_wins_over_certificate_name() -> None:
    assert classify_upload("my.cer", "application/x-pkcs12", None) == "private"
    assert classify_upload("my.pem", None, private_key_pem()) == "private"
    assert classify_upload("my.cer", None, make_p12()[:48]) == "private"


@pytest.mark.parametrize(
    ("head_factory", "expected"),
    [
        (lambda: make_p12()[:32], "private"),
        (lambda: make_p12(None)[:16], "private"),
        (lambda: private_key_der()[:32], "private"),
        (lambda: private_key_der(password=b"x")[:40], "private"),
        (lambda: private_key_der(fmt=TRADITIONAL)[:16], "private"),
        (lambda: b"\xfe\xed\xfe\xed\x00\x00\x00\x02", "private"),
        (lambda: b"noise -----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE", "private"),
        (lambda: der(make_cert()[0])[:32], "certificate"),
        (lambda: pem(make_cert()[0])[:40], "certificate"),
        (lambda: b"%PDF-1.7\n", "unknown"),
        (lambda: b"\x30", "unknown"),
    ],
)
def test_classify_by_head_only(head_factory: object, expected: str) -> None:
    assert callable(head_factory)
    assert classify_upload("upload.bin", None, head_factory()) == expected


# --- looks_like_private_key_text -------------------------------------------------------


def _b64_wrapped(data: bytes, width: int = 76) -> str:
    return "\n".join(textwrap.wrap(base64.b64encode(data).decode(), width))


def test_pem_private_key_in_message() -> None:
    text = "вот мой ключ:\n" + private_key_pem().decode() + "\nсохрани"
    assert looks_like_private_key_text(text)
    assert looks_like_private_key_text("-----BEGIN RSA PRIVATE KEY-----\nMIIE...")
    assert looks_like_private_key_text("-----BEGIN OPENSSH PRIVATE KEY-----")


@pytest.mark.parametrize(
    "blob_factory",
    [
        lambda: make_p12(b"Qwerty12"),
        lambda: make_p12(None, key_type="ec"),
        lambda: private_key_der(),
        lambda: private_key_der("ec", password=b"x"),
    ],
    ids=["p12", "p12-plain-ec", "pkcs8", "encrypted-pkcs8-ec"],
)
def test_base64_key_blob_in_message(blob_factory: object) -> None:
    assert callable(blob_factory)
    blob = blob_factory()
    assert looks_like_private_key_text(_b64_wrapped(blob))
    assert looks_like_private_key_text("файл: " + base64.b64encode(blob).decode() + " вот")


def test_base64_blob_surrounded_by_latin_words() -> None:
    text = "here it is " + _b64_wrapped(make_p12()) + " thanks bro"
    assert looks_like_private_key_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Как продлить ЭЦП онлайн?",
        "Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua Ut enim ad minim veniam quis nostrud",
        "A" * 400,
        "-----BEGIN CERTIFICATE-----",
    ],
)
def test_ordinary_text_is_not_a_key(text: str) -> None:
    assert not looks_like_private_key_text(text)


def test_a_question_with_a_pasted_key_is_a_secret() -> None:
    # One detector for every text path: a question is never logged with a key in it.
    assert looks_like_secret("что это? " + _b64_wrapped(make_p12()))
    assert looks_like_secret(private_key_pem().decode())


def test_base64_certificate_is_not_a_key() -> None:
    cert, _ = make_cert()
    assert not looks_like_private_key_text(_b64_wrapped(der(cert)))
    assert not looks_like_private_key_text(pem(cert).decode())


# --- robustness ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_mutated_inputs_never_crash(seed: int) -> None:
    """Random corruption yields a CertInfo or a CertificateError, never another exception."""
    rng = random.Random(seed)
    samples = [der(make_cert()[0]), raw_certificate(version=5), make_p12()[:400]]
    for _ in range(300):
        data = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(1, len(data))]
        try:
            parse_certificate(bytes(data))
        except CertificateError:
            pass
        classify_upload("x.bin", None, bytes(data[:64]))
        looks_like_private_key_text(base64.b64encode(bytes(data)).decode())
