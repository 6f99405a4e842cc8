"""Property-based tests: whatever people type, the pure text helpers answer without crashing."""

from __future__ import annotations

import re
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.keys.secrets import find_sensitive
from bot.keys.validation import DateError, is_valid_bin, is_valid_iin, parse_date
from bot.qa.langdetect import detect_language, language_scores
from bot.qa.normalize import fold, to_cyrillic, tokenize
from bot.texts import clean_text
from handlers.keys.input import TEXT_STEPS, check_input
from tests.keys.certgen import with_control_digit

FAST = settings(max_examples=200, deadline=None)
TODAY = date(2025, 6, 10)
# Invisible characters clean_text removes (bot/texts.py), tabs and line breaks aside.
INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)

RELATIVE_WORDS = ["сегодня", "бүгін", "вчера", "кеше", "позавчера", "алдыңғы күні", "завтра",
                  "ертең", "ертен", "послезавтра", "бүрсігүні", "через", "назад", "кейін",
                  "кейин", "бұрын", "год", "года", "лет", "дней", "месяцев", "неделю",
                  "жылдан", "айдан", "күннен", "бір", "бир", "үш", "два", "полгода"]
NUMBERS = st.integers(min_value=0, max_value=10**6).map(str)
DATEISH = st.lists(
    st.one_of(st.sampled_from(RELATIVE_WORDS), NUMBERS, st.sampled_from([".", "/", "-", " "]),
              st.text(max_size=4)),
    max_size=6,
).map(lambda parts: " ".join(parts))
TEXTS = st.one_of(st.text(max_size=300), DATEISH)
DAYS = st.dates(min_value=date(1000, 1, 1), max_value=date(9000, 12, 31))


@FAST
@given(text=st.one_of(TEXTS, DATEISH.map(str.upper)), today=DAYS)
def test_parse_date_raises_only_date_error(text: str, today: date) -> None:
    try:
        result = parse_date(text, today)
    except DateError as e:
        assert e.code in ("format", "invalid")
    else:
        assert isinstance(result, date)


@FAST
@given(day=st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)),
       sep=st.sampled_from([".", "/", "-"]))
def test_dd_mm_yyyy_round_trips(day: date, sep: str) -> None:
    text = sep.join((f"{day.day:02d}", f"{day.month:02d}", f"{day.year:04d}"))
    assert parse_date(text, TODAY) == day
    assert parse_date(day.isoformat(), TODAY) == day


@FAST
@given(n=st.integers(min_value=0, max_value=3000),
       form=st.sampled_from(["через {} дней", "{} күннен кейін", "{} куннен кейин"]))
def test_relative_days_both_languages(n: int, form: str) -> None:
    assert parse_date(form.format(n), TODAY) == TODAY + timedelta(days=n)


@FAST
@given(step=st.sampled_from(TEXT_STEPS), text=TEXTS,
       issued=st.none() | st.dates(min_value=date(2004, 1, 1), max_value=TODAY))
def test_check_input_never_raises_and_keeps_nothing_invisible(
    step: str, text: str, issued: date | None
) -> None:
    checked = check_input(step, text, TODAY, issued)
    assert (checked.value is None) != (checked.error is None)
    if checked.value is not None:
        assert not INVISIBLE_RE.search(checked.value)


@FAST
@given(text=st.text(max_size=300))
def test_clean_text_removes_invisible_and_is_idempotent(text: str) -> None:
    cleaned = clean_text(text)
    assert not INVISIBLE_RE.search(cleaned)
    assert clean_text(cleaned) == cleaned


@FAST
@given(text=st.text(max_size=40))
def test_iin_bin_validators_never_raise(text: str) -> None:
    assert is_valid_bin(text) in (True, False)
    assert is_valid_iin(text) in (True, False)


@FAST
@given(digits=st.text(alphabet="0123456789", min_size=11, max_size=11),
       wrong=st.integers(min_value=1, max_value=9))
def test_bin_checksum(digits: str, wrong: int) -> None:
    try:
        number = with_control_digit(digits)
    except ValueError:
        return  # an 11-digit start that never gets a control digit
    month_ok = 1 <= int(number[2:4]) <= 12
    assert is_valid_bin(number) == month_ok
    # Any other last digit breaks the checksum.
    broken = number[:11] + str((int(number[11]) + wrong) % 10)
    assert not is_valid_bin(broken)


@FAST
@given(text=st.text(max_size=300))
def test_secret_detector_never_raises(text: str) -> None:
    assert find_sensitive(text) in (None, "iin", "password", "code")


@FAST
@given(first11=st.from_regex(r"[0-9]{2}(0[1-9]|1[0-2])[0-9]{7}", fullmatch=True),
       before=st.text(alphabet="абвгд жылы ИИН:,.", max_size=20),
       after=st.text(alphabet="абвгд жылы ИИН:,.", max_size=20))
def test_iin_inside_text_is_detected(first11: str, before: str, after: str) -> None:
    try:
        iin = with_control_digit(first11)
    except ValueError:
        return
    assert find_sensitive(f"{before} {iin} {after}") == "iin"


@FAST
@given(text=st.text(max_size=300))
def test_normaliser_never_raises_and_is_idempotent(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert to_cyrillic(to_cyrillic(text)) == to_cyrillic(text)
    assert isinstance(tokenize(text), list)


@FAST
@given(text=st.text(max_size=300))
def test_language_detection_never_raises(text: str) -> None:
    assert detect_language(text) in (None, "kk", "ru")
    kk, ru = language_scores(text)
    assert kk >= 0 and ru >= 0
