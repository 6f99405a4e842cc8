from __future__ import annotations

from datetime import date

import pytest

from bot.keys.kinds import HOLDERS, KINDS, PURPOSES, KeyKind
from bot.keys.secrets import find_sensitive
from bot.keys.validation import (
    DateError,
    add_years,
    default_expiry,
    is_valid_bin,
    is_valid_iin,
    mask_iin,
    parse_date,
    validate_expiry_date,
    validate_issue_date,
)
from tests.keys.certgen import TEST_BIN, TEST_IIN, find_prefix, with_control_digit

TODAY = date(2025, 6, 10)


# --- parse_date ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.05.2024", date(2024, 5, 12)),
        ("12.05.24", date(2024, 5, 12)),
        ("1.5.2024", date(2024, 5, 1)),
        ("1.5.24", date(2024, 5, 1)),
        ("12/05/2024", date(2024, 5, 12)),
        ("12-05-2024", date(2024, 5, 12)),
        ("2024-05-12", date(2024, 5, 12)),
        ("2024.5.1", date(2024, 5, 1)),
        ("  12.05.2024  ", date(2024, 5, 12)),
        ("12 . 05 . 2024", date(2024, 5, 12)),
        ("12 05 2024", date(2024, 5, 12)),
        ("29.02.2024", date(2024, 2, 29)),
        ("12.05.2024г", date(2024, 5, 12)),
        ("12.05.2024 г.", date(2024, 5, 12)),
        ("12.05.2024 года", date(2024, 5, 12)),
        ("12.05.24ж.", date(2024, 5, 12)),
        ("12.05.2024 жыл", date(2024, 5, 12)),
    ],
)
def test_parse_date_formats(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "word", ["today", "TODAY", "Сегодня", " сегодня ", "бүгін", "БҮГІН", "бугин"]
)
def test_parse_date_today_words(word: str) -> None:
    assert parse_date(word, TODAY) == TODAY


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "12.05",
        "2024",
        "12.05/2024",
        "12..05.2024",
        "12.05.202",
        "когда-нибудь",
        "1.2.3.4",
    ],
)
def test_parse_date_format_error(text: str) -> None:
    with pytest.raises(DateError) as exc:
        parse_date(text, TODAY)
    assert exc.value.code == "format"


@pytest.mark.parametrize(
    "text", ["31.02.2024", "29.02.2023", "00.05.2024", "12.13.2024", "2024-02-30"]
)
def test_parse_date_invalid_day(text: str) -> None:
    with pytest.raises(DateError) as exc:
        parse_date(text, TODAY)
    assert exc.value.code == "invalid"


def test_date_error_is_value_error_with_code_as_message() -> None:
    err = DateError("future")
    assert isinstance(err, ValueError)
    assert str(err) == "future"


# --- range checks ----------------------------------------------------------------------


def test_validate_issue_date_accepts_range_edges() -> None:
    assert validate_issue_date(TODAY, TODAY) == TODAY
    assert validate_issue_date(date(2004, 1, 1), TODAY) == date(2004, 1, 1)


@pytest.mark.parametrize(
    ("d", "code"),
    [(date(2025, 6, 11), "future"), (date(2003, 12, 31), "too-old"), (date(1999, 1, 1), "too-old")],
)
def test_validate_issue_date_rejects(d: date, code: str) -> None:
    with pytest.raises(DateError) as exc:
        validate_issue_date(d, TODAY)
    assert exc.value.code == code


def test_validate_expiry_date() -> None:
    issued = date(2024, 5, 12)
    assert validate_expiry_date(date(2025, 5, 12), issued) == date(2025, 5, 12)
    assert validate_expiry_date(date(2029, 5, 12), issued) == date(2029, 5, 12)
    for bad, code in [
        (date(2024, 5, 11), "before-issue"),
        (issued, "before-issue"),
        (date(2029, 5, 13), "too-far"),
    ]:
        with pytest.raises(DateError) as exc:
            validate_expiry_date(bad, issued)
        assert exc.value.code == code


def test_expiry_in_past_is_allowed() -> None:
    # Registering an already expired key is legitimate (the bot then explains re-issue).
    assert validate_expiry_date(date(2020, 1, 1), date(2019, 1, 1)) == date(2020, 1, 1)


# --- default expiry --------------------------------------------------------------------


def test_vocabularies_keep_their_stored_strings() -> None:
    # These strings are in the database and in callback data: they must never change.
    assert KINDS == ("file", "id_card", "token", "cloud")
    assert HOLDERS == ("individual", "legal")
    assert PURPOSES == ("auth", "sign_rsa", "sign_gost", "both")
    assert f"{KeyKind.ID_CARD}" == str(KeyKind.ID_CARD) == "id_card"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (KeyKind.FILE, date(2025, 5, 12)),
        (KeyKind.ID_CARD, date(2027, 5, 12)),
        (KeyKind.TOKEN, date(2027, 5, 12)),
        (KeyKind.CLOUD, date(2025, 5, 12)),
    ],
)
def test_default_expiry(kind: str, expected: date) -> None:
    assert default_expiry(kind, date(2024, 5, 12)) == expected


def test_default_expiry_leap_day() -> None:
    assert default_expiry(KeyKind.FILE, date(2024, 2, 29)) == date(2025, 2, 28)
    assert default_expiry(KeyKind.TOKEN, date(2024, 2, 29)) == date(2027, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)


def test_default_expiry_unknown_kind() -> None:
    with pytest.raises(ValueError):
        default_expiry("floppy", date(2024, 1, 1))


def test_default_expiry_passes_expiry_validation() -> None:
    issued = date(2024, 2, 29)
    for kind in KINDS:
        validate_expiry_date(default_expiry(kind, issued), issued)


# --- IIN / BIN -------------------------------------------------------------------------


def test_constructed_numbers_are_valid() -> None:
    assert is_valid_iin(TEST_IIN)
    assert is_valid_bin(TEST_BIN)
    assert is_valid_iin(f" {TEST_IIN}\n")


def test_every_wrong_control_digit_is_rejected() -> None:
    for d in "0123456789":
        candidate = TEST_IIN[:11] + d
        assert is_valid_iin(candidate) == (candidate == TEST_IIN)


def test_second_weight_pass() -> None:
    # A prefix whose first weighted sum is 10 must use the second weights.
    prefix = find_prefix("85010130000", needs_second_pass=True)
    iin = with_control_digit(prefix)
    assert is_valid_iin(iin)
    w2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
    assert int(iin[-1]) == sum(int(c) * w for c, w in zip(prefix, w2, strict=True)) % 11


def test_unassignable_prefix_has_no_valid_number() -> None:
    prefix = find_prefix("85010130000", needs_second_pass=True, unassignable=True)
    assert not any(is_valid_iin(prefix + d) for d in "0123456789")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12345",
        "8501013000151",
        "85010130001",
        "85O101300015",
        "８５０１０１３０００１５",
        "85-0101300015",
    ],
)
def test_malformed_numbers(value: str) -> None:
    assert not is_valid_iin(value)
    assert not is_valid_bin(value)


def test_month_must_be_real() -> None:
    bad_month = with_control_digit("85130130001")
    assert not is_valid_iin(bad_month)
    assert not is_valid_bin(with_control_digit("12004000123"))


def test_mask_iin() -> None:
    masked = mask_iin(TEST_IIN)
    assert masked == "85••••••••15"
    assert TEST_IIN[2:10] not in masked
    with pytest.raises(ValueError) as exc:
        mask_iin("12345")
    assert "12345" not in str(exc.value)


# --- find_sensitive --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        TEST_IIN,
        f"мой ИИН {TEST_IIN}",
        "ЖСН: 123456789012.",
        "850101 300015",
        "8501 0130 0015",
        "850101-300015 флешка",
    ],
)
def test_find_sensitive_iin(text: str) -> None:
    assert find_sensitive(text) == "iin"


@pytest.mark.parametrize(
    "text",
    [
        "флешка в столе, пароль 123456",
        "пароль: Abc12345",
        "Пароль - qwerty",
        "password=hunter2",
        "password: secret",
        "pass: 1111",
        "pin 1234",
        "PIN: 0000",
        "пин-код 1234",
        "пин код от токена 12345678",
        "ПИН 4321",
        "pin-code 9876",
        "құпиясөз Abc123",
        "құпия сөз: мысық",
        "купиясоз 5555",
        "парол 123456 флешкада",
        "паролі 987654",
        "Qwerty123",
        "флешка в сейфе Qwerty123",
        "Abc123",
        "P@ssw0rd",
    ],
)
def test_find_sensitive_password(text: str) -> None:
    assert find_sensitive(text) == "password"


@pytest.mark.parametrize(
    "text",
    ["код 1234", "Код из смс: 567890", "sms 123456", "SMS-код 4455", "code: 99887766", "kod 1234"],
)
def test_find_sensitive_code(text: str) -> None:
    assert find_sensitive(text) == "code"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "флешка в столе",
        "на ноутбуке, папка Документы",
        "KazToken в сейфе",
        "пароль знает только жена",
        "пароль помню",
        "password is in my head",
        "passport in the drawer",
        "выдан 12.05.2024, истекает 12.05.2025",
        "01-01-2024 01-01-2025",
        "позвонить 8 701 123 45 67",
        "+77011234567",
        "почта Ivan.Petrov85@mail.kz",
        "https://pki.gov.kz/Abc12345xyz",
        "ID-карта, ПИН не помню",
        "код не приходил",
        "ЦОН на Абая 123",
        "eToken",
    ],
)
def test_find_sensitive_clean(text: str) -> None:
    assert find_sensitive(text) is None


def test_find_sensitive_iin_wins_over_password() -> None:
    assert find_sensitive(f"пароль 1234, ИИН {TEST_IIN}") == "iin"
