"""Property-based tests: the certificate reader lets only CertificateError escape."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.keys.certificates import MAX_CERT_BYTES, CertificateError, CertInfo, parse_certificate
from tests.keys.certgen import der, make_cert, pem

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CERT_DER = der(make_cert()[0])
CERT_PEM = pem(make_cert(purpose="sign", key_type="ec")[0])


def read(data: bytes) -> CertInfo | None:
    try:
        return parse_certificate(data)
    except CertificateError:
        return None


@FAST
@given(data=st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    read(data)


@FAST
@given(source=st.sampled_from([CERT_DER, CERT_PEM]), cut=st.integers(min_value=0),
       prefix=st.binary(max_size=8))
def test_truncated_real_certificates(source: bytes, cut: int, prefix: bytes) -> None:
    read(source[: cut % len(source)])
    read(prefix + source[: cut % len(source)])


@FAST
@given(source=st.sampled_from([CERT_DER, CERT_PEM]), pos=st.integers(min_value=0),
       byte=st.integers(min_value=0, max_value=255))
def test_one_byte_changed(source: bytes, pos: int, byte: int) -> None:
    i = pos % len(source)
    read(source[:i] + bytes([byte]) + source[i + 1:])


@settings(max_examples=20, deadline=None)
@given(extra=st.integers(min_value=1, max_value=4 * MAX_CERT_BYTES),
       fill=st.sampled_from([b"\x00", b"A", b"\x30\x82"]))
def test_huge_inputs_are_too_big(extra: int, fill: bytes) -> None:
    data = (CERT_DER + fill * (MAX_CERT_BYTES // len(fill) + extra))[: MAX_CERT_BYTES + extra]
    try:
        parse_certificate(data)
    except CertificateError as e:
        assert e.code == "too-big"
    else:
        raise AssertionError("a huge input was read")


def test_real_certificates_still_read() -> None:
    assert read(CERT_DER) is not None and read(CERT_PEM) is not None
