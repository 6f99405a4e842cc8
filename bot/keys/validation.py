"""Pure validation helpers for key metadata: dates, validity by key kind, IIN/BIN.

Everything here is side-effect free and raises machine codes (not messages) so handlers
can localise the text.
"""

from __future__ import annotations

import re
from datetime import date
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

_TODAY_WORDS: Final = frozenset({"today", "сегодня", "бүгін", "бугин", "бүгин", "бугін"})
# ISO-like: year first, any of the separators.
_YMD_RE: Final = re.compile(r"(\d{4})([./\- ])(\d{1,2})\2(\d{1,2})")
# Day first; the same separator must be used twice so "12.05-24" is not guessed at.
_DMY_RE: Final = re.compile(r"(\d{1,2})([./\- ])(\d{1,2})\2(\d{4}|\d{2})")
_YEAR_SUFFIX_RE: Final = re.compile(r"(?<=\d)\s*(?:г|года|год|ж|жыл|жылы)?\.?$")


def parse_date(text: str, today: date) -> date:
    """Parse a user-typed date (dd.mm.yyyy, dd.mm.yy, d/m/yyyy, yyyy-mm-dd, "today"...).

    Raises DateError("format") when the text is not a date at all and DateError("invalid")
    when it has a date shape but no such day exists (31.02.2024). Range checks live in
    `validate_issue_date` / `validate_expiry_date`.
    """
    s = " ".join(text.split()).casefold()
    if s in _TODAY_WORDS:
        return today
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
