"""Pure validation helpers for key metadata: dates, validity by key kind, IIN/BIN.

Everything here is side-effect free and raises machine codes (not messages) so handlers
can localise the text.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final, Literal

from bot.keys.kinds import KeyKind

# Default validity in years when the certificate's own Not After is unknown.
# file: 1 year; ID-card chip and hardware tokens: 3 years (NUC RK, see kz-eds-facts "validity").
# cloud: 1 year is an ASSUMPTION - the validity of eGov Mobile ("cloud") keys is unconfirmed,
# so handlers should ask the user to check it; the certificate's end date always wins.
EXPIRY_YEARS: Final[dict[KeyKind, int]] = {
    KeyKind.FILE: 1,
    KeyKind.ID_CARD: 3,
    KeyKind.TOKEN: 3,
    KeyKind.CLOUD: 1,
}

# NUC RK began issuing keys in the mid-2000s; anything earlier is a typo.
EARLIEST_ISSUE: Final = date(2004, 1, 1)
# No NUC key is valid longer than 3 years; 5 leaves room for odd cases but catches typos.
MAX_VALIDITY_YEARS: Final = 5

DateErrorCode = Literal["format", "invalid", "future", "too-old", "before-issue", "too-far"]


class DateError(ValueError):
    """A date the user typed was rejected; `code` is a machine code for localisation."""

    def __init__(self, code: DateErrorCode) -> None:
        super().__init__(code)
        self.code: DateErrorCode = code


# --- dates -----------------------------------------------------------------------------

# Kazakh letters people replace with Russian look-alikes when the keyboard has no Kazakh
# layout ("ертен", "бир жылдан кейин"); relative words are matched after this folding.
_KK_FOLD: Final = str.maketrans("әғқңөұүһі", "агкноуухи")
# Whole-text day offsets: "today", "yesterday", "tomorrow"... (folded spelling).
_DAY_WORDS: Final[dict[str, int]] = {
    "today": 0, "сегодня": 0, "бугин": 0,
    "yesterday": -1, "вчера": -1, "кеше": -1,
    "позавчера": -2, "алдынгы куни": -2, "алдынгы кун": -2,
    "tomorrow": 1, "завтра": 1, "ертен": 1, "erten": 1,
    "послезавтра": 2, "бурсигуни": 2, "бурсугуни": 2, "бурсигун": 2,
}
_NUMBER_WORDS: Final[dict[str, int]] = {
    "один": 1, "одна": 1, "одну": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5,
    "бир": 1, "еки": 2, "уш": 3, "торт": 4, "бес": 5,
}
# Unit word (folded) -> (unit, how many of it). Kazakh forms carry the ablative ending
# ("жылдан") because that is how "in N years" is said ("N жылдан кейін").
_UNIT_WORDS: Final[dict[str, tuple[str, int]]] = {
    **dict.fromkeys(("год", "года", "лет"), ("months", 12)),
    **dict.fromkeys(("месяц", "месяца", "месяцев"), ("months", 1)),
    **dict.fromkeys(("неделю", "недели", "недель", "неделя"), ("days", 7)),
    **dict.fromkeys(("день", "дня", "дней", "сутки", "суток"), ("days", 1)),
    "полгода": ("months", 6),
    **dict.fromkeys(("жыл", "жылдан"), ("months", 12)),
    **dict.fromkeys(("ай", "айдан"), ("months", 1)),
    **dict.fromkeys(("апта", "аптадан"), ("days", 7)),
    **dict.fromkeys(("кун", "куннен"), ("days", 1)),
}
_NUM: Final = r"(?:(\d{1,4}|" + "|".join(_NUMBER_WORDS) + r")\s+)?"
_UNIT: Final = "(" + "|".join(sorted(_UNIT_WORDS, key=len, reverse=True)) + ")"
# "через 3 года", "2 месяца назад", "3 жылдан кейін", "1 жыл бұрын" (folded spelling).
_RELATIVE_RES: Final = (
    (re.compile(r"через\s+" + _NUM + _UNIT), 1),
    (re.compile(_NUM + _UNIT + r"\s+назад"), -1),
    (re.compile(_NUM + _UNIT + r"\s+кейин"), 1),
    (re.compile(_NUM + _UNIT + r"\s+бурын"), -1),
)
# The longest offset worth computing; anything beyond is a typo rather than a key date.
_MAX_RELATIVE_DAYS: Final = 100 * 366
# ISO-like: year first, any of the separators.
_YMD_RE: Final = re.compile(r"(\d{4})([./\- ])(\d{1,2})\2(\d{1,2})")
# Day first; the same separator must be used twice so "12.05-24" is not guessed at.
_DMY_RE: Final = re.compile(r"(\d{1,2})([./\- ])(\d{1,2})\2(\d{4}|\d{2})")
_YEAR_SUFFIX_RE: Final = re.compile(r"(?<=\d)\s*(?:г|года|год|ж|жыл|жылы)?\.?$")


def parse_date(text: str, today: date) -> date:
    """Parse a user-typed date (dd.mm.yyyy, dd.mm.yy, d/m/yyyy, yyyy-mm-dd, "today"...).

    Relative words are understood in Russian and Kazakh, with or without Kazakh letters:
    "вчера"/"кеше", "завтра"/"ертең", "через 3 года"/"3 жылдан кейін", "год назад"/"бір жыл
    бұрын" and the like.

    Raises DateError("format") when the text is not a date at all and DateError("invalid")
    when it has a date shape but no such day exists (31.02.2024). Range checks live in
    `validate_issue_date` / `validate_expiry_date`.
    """
    s = " ".join(text.split()).casefold()
    relative = _parse_relative(s.translate(_KK_FOLD), today)
    if relative is not None:
        return relative
    # "12.05.2024 г." / "12.05.2024ж." - a year suffix people add out of habit.
    s = _YEAR_SUFFIX_RE.sub("", s)
    # Tolerate spaces around separators ("12 . 05 . 2024").
    s = re.sub(r"\s*([./-])\s*", r"\1", s)
    if m := _YMD_RE.fullmatch(s):
        year, month, day = int(m.group(1)), int(m.group(3)), int(m.group(4))
    elif m := _DMY_RE.fullmatch(s):
        day, month = int(m.group(1)), int(m.group(3))
        raw_year = m.group(4)
        # Two-digit years only make sense in the EDS era (2004+), so "24" is 2024.
        year = 2000 + int(raw_year) if len(raw_year) == 2 else int(raw_year)
    else:
        raise DateError("format")
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError("invalid") from None


def _parse_relative(s: str, today: date) -> date | None:
    """A relative date in folded text `s`, None when `s` is not one."""
    if s in _DAY_WORDS:
        return today + timedelta(days=_DAY_WORDS[s])
    for regex, sign in _RELATIVE_RES:
        if m := regex.fullmatch(s):
            raw, unit_word = m.group(1), m.group(2)
            count = 1 if raw is None else _NUMBER_WORDS.get(raw) or int(raw)
            unit, size = _UNIT_WORDS[unit_word]
            amount = sign * count * size
            if unit == "days":
                if abs(amount) > _MAX_RELATIVE_DAYS:
                    raise DateError("invalid")
                return today + timedelta(days=amount)
            if abs(amount) > _MAX_RELATIVE_DAYS // 30:
                raise DateError("invalid")
            return add_months(today, amount)
    return None


def add_months(d: date, months: int) -> date:
    """Same day `months` later (earlier if negative), clamped to the month's last day."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, min(d.day, day))
        except ValueError:
            continue
    raise DateError("invalid")  # pragma: no cover - 28 always exists


def validate_issue_date(d: date, today: date) -> date:
    """Check an issue date is plausible; returns it unchanged for chaining."""
    if d > today:
        raise DateError("future")
    if d < EARLIEST_ISSUE:
        raise DateError("too-old")
    return d


def validate_expiry_date(expiry: date, issued: date) -> date:
    """Check an expiry date against the issue date; returns it unchanged.

    An expiry on the issue day itself is rejected as "before-issue" too: no real key is
    valid for zero days, so it is a typo.
    """
    if expiry <= issued:
        raise DateError("before-issue")
    if expiry > add_years(issued, MAX_VALIDITY_YEARS):
        raise DateError("too-far")
    return expiry


def add_years(d: date, years: int) -> date:
    """Same day `years` later; 29 February becomes 28 February in non-leap years."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def default_expiry(kind: str, issued: date) -> date:
    """Expected expiry for a key of `kind` issued on `issued`.

    Uses "same day N years later". Real NUC certificates may end a day earlier or at a
    specific hour, which is why the certificate's Not After wins whenever it is known.
    """
    try:
        years = EXPIRY_YEARS[KeyKind(kind)]
    except ValueError:
        raise ValueError(f"unknown key kind: {kind!r}") from None
    return add_years(issued, years)


# --- IIN / BIN -------------------------------------------------------------------------

_W1: Final = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_W2: Final = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_TWELVE_DIGITS_RE: Final = re.compile(r"[0-9]{12}")


def _check_digit(first11: str) -> int | None:
    """Kazakhstan IIN/BIN control digit (Government Decree No. 565 of 2003), None if none."""
    digits = [int(c) for c in first11]
    total = sum(d * w for d, w in zip(digits, _W1, strict=True)) % 11
    if total == 10:
        total = sum(d * w for d, w in zip(digits, _W2, strict=True)) % 11
        if total == 10:
            # Numbers whose second pass also gives 10 are never assigned.
            return None
    return total


def _valid_number(value: str) -> bool:
    if not _TWELVE_DIGITS_RE.fullmatch(value):
        return False
    # Digits 3-4 are a month for both: birth month (IIN) or registration month (BIN).
    if not 1 <= int(value[2:4]) <= 12:
        return False
    return _check_digit(value[:11]) == int(value[11])


def is_valid_iin(iin: str) -> bool:
    """12 ASCII digits, a real month in positions 3-4 and a matching control digit."""
    return _valid_number(iin.strip())


def is_valid_bin(bin_: str) -> bool:
    """Same structure and control digit as an IIN (registration year/month first)."""
    return _valid_number(bin_.strip())


def mask_iin(iin: str) -> str:
    """`850101300012` -> `85••••••••12`; raises ValueError (without the value) otherwise."""
    value = iin.strip()
    if not _TWELVE_DIGITS_RE.fullmatch(value):
        raise ValueError("an IIN must be 12 digits")
    return f"{value[:2]}••••••••{value[-2:]}"
