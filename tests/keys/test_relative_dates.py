"""Relative dates in Russian and Kazakh (with and without Kazakh letters)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.keys.validation import DateError, add_months, parse_date

TODAY = date(2025, 6, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("сегодня", date(2025, 6, 10)),
        ("бүгін", date(2025, 6, 10)),
        ("вчера", date(2025, 6, 9)),
        ("Вчера", date(2025, 6, 9)),
        ("кеше", date(2025, 6, 9)),
        ("КЕШЕ", date(2025, 6, 9)),
        ("позавчера", date(2025, 6, 8)),
        ("алдыңғы күні", date(2025, 6, 8)),
        ("алдынгы куни", date(2025, 6, 8)),
        ("завтра", date(2025, 6, 11)),
        ("ертең", date(2025, 6, 11)),
        ("ертен", date(2025, 6, 11)),
        ("Ертең", date(2025, 6, 11)),
        ("послезавтра", date(2025, 6, 12)),
        ("бүрсігүні", date(2025, 6, 12)),
        ("бурсигуни", date(2025, 6, 12)),
    ],
)
def test_day_words(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("через год", date(2026, 6, 10)),
        ("Через  год", date(2026, 6, 10)),
        ("через 1 год", date(2026, 6, 10)),
        ("через 3 года", date(2028, 6, 10)),
        ("через 5 лет", date(2030, 6, 10)),
        ("через два года", date(2027, 6, 10)),
        ("через 10 дней", date(2025, 6, 20)),
        ("через 1 день", date(2025, 6, 11)),
        ("через 2 дня", date(2025, 6, 12)),
        ("через 6 месяцев", date(2025, 12, 10)),
        ("через 2 месяца", date(2025, 8, 10)),
        ("через месяц", date(2025, 7, 10)),
        ("через неделю", date(2025, 6, 17)),
        ("через 2 недели", date(2025, 6, 24)),
        ("через полгода", date(2025, 12, 10)),
        ("год назад", date(2024, 6, 10)),
        ("2 месяца назад", date(2025, 4, 10)),
        ("бір жылдан кейін", date(2026, 6, 10)),
        ("бир жылдан кейин", date(2026, 6, 10)),
        ("БІР ЖЫЛДАН КЕЙІН", date(2026, 6, 10)),
        ("жылдан кейін", date(2026, 6, 10)),
        ("3 жылдан кейін", date(2028, 6, 10)),
        ("3 жылдан кейин", date(2028, 6, 10)),
        ("үш жылдан кейін", date(2028, 6, 10)),
        ("уш жылдан кейин", date(2028, 6, 10)),
        ("10 күннен кейін", date(2025, 6, 20)),
        ("10 куннен кейин", date(2025, 6, 20)),
        ("6 айдан кейін", date(2025, 12, 10)),
        ("бір жыл бұрын", date(2024, 6, 10)),
        ("бир жыл бурын", date(2024, 6, 10)),
        ("5 күн бұрын", date(2025, 6, 5)),
    ],
)
def test_relative_amounts(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


def test_month_end_is_clamped() -> None:
    assert parse_date("через месяц", date(2025, 1, 31)) == date(2025, 2, 28)
    assert parse_date("через год", date(2024, 2, 29)) == date(2025, 2, 28)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)


@pytest.mark.parametrize(
    "text", ["через 9999 лет", "через 9999 месяцев", "9999 жылдан кейін", "через 99999 дней"]
)
def test_absurd_offsets_are_refused(text: str) -> None:
    with pytest.raises(DateError):
        parse_date(text, TODAY)


@pytest.mark.parametrize(
    "text", ["через", "назад", "кейін", "через лет года", "вчера завтра", "через -3 года"]
)
def test_not_relative(text: str) -> None:
    with pytest.raises(DateError) as e:
        parse_date(text, TODAY)
    assert e.value.code == "format"
