"""Remove what could identify a person from a question before it is kept, and the key that
groups the same question however it was typed.

Unanswered questions are kept for admins to teach the bot; they need the wording, not the
numbers or names people put in. Redaction is best effort (a name without a cue word stays), so
the text is also encrypted, has no link to its author and is deleted after a retention period.
"""

from __future__ import annotations

import re

from bot.qa.normalize import stem_kk, stem_ru, tokenize

MAX_STORED = 300
_UPPER = "A-ZА-ЯЁӘҒҚҢӨҰҮҺІ"
_LOWER = "a-zа-яёәғқңөұүһі"
_NAME_WORD = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"
# Words after which a capitalised word is a person's name: "меня зовут Айгерим", "Мен Асхат",
# "Я Иван Петров", "атым Айгүл", "фамилия Ким", typed in Cyrillic or Latin.
_NAME_CUES = (
    "меня зовут", "меня звать", "зовут", "моё имя", "мое имя", "имя", "фамилия", "фио", "я",
    "менің атым", "менің есімім", "менің атым-жөнім", "атым", "есімім", "тегім", "аты-жөнім",
    "мен", "menya zovut", "zovut", "men", "ya", "atym", "esimim",
)
_CUE = "|".join(
    re.escape(c).replace(r"\ ", r"\s+") for c in sorted(_NAME_CUES, key=len, reverse=True)
)
_NAMES = rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}"
_NAME_RE = re.compile(rf"(?<![\w-])((?i:{_CUE})(?:\s*[:,—-]\s*|\s+))({_NAMES})(?![\w-])")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINK_RE = re.compile(r"(?:https?://|www\.)\S+|(?<![\w@])@\w{4,}", re.IGNORECASE)
# 13-19 digits, in groups of 4 or not: a payment card.
_CARD_RE = re.compile(r"(?<![\d+])(?:\d{4}[ -]?){3}\d{1,7}(?!\d)")
# 12 digits, also written 6+6: an IIN or a BIN.
_IIN_RE = re.compile(r"(?<!\d)\d{6}[ -]?\d{6}(?!\d)")
# Kazakhstan numbers +7 / 8 7xx xxx xx xx in any grouping, or any +country number.
_PHONE_RE = re.compile(
    r"(?<![\d+])(?:(?:\+\s?7|8|7)[\s-]?\(?\s?\d{3}\s?\)?[\s-]?\d{3}[\s-]?\d{2}[\s-]?\d{2}"
    r"|\+\d[\d\s()-]{8,16}\d)(?!\d)"
)
_DATE_RE = re.compile(r"(?<!\d)\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?!\d)")
# Five digits or more, or three groups and more ("123 45 67"): an account, a contract, a code.
_LONG_DIGITS_RE = re.compile(r"(?<!\d)(?:\d{5,}|\d{2,4}(?:[ -]\d{2,4}){2,})(?!\d)")
_PLACEHOLDER_RE = re.compile(r"<(?:email|link|card|iin|phone|date|number|name)>")
_SPACES_RE = re.compile(r"\s+")

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_EMAIL_RE, "<email>"),
    (_LINK_RE, "<link>"),
    (_CARD_RE, "<card>"),
    (_IIN_RE, "<iin>"),
    (_PHONE_RE, "<phone>"),
    (_DATE_RE, "<date>"),
    (_LONG_DIGITS_RE, "<number>"),
)


def redact(text: str) -> str:
    """text with e-mails, links, card, IIN/BIN and phone numbers, dates, runs of five or more
    digits and names after a cue word replaced by <placeholders>; spaces collapsed, capped."""
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    text = _NAME_RE.sub(lambda m: m.group(1) + "<name>", text)
    return _SPACES_RE.sub(" ", text).strip()[:MAX_STORED]


def question_key(text: str) -> str:
    """The same key for the same question whatever its case, punctuation, word order, script
    (Latin or Cyrillic, with or without Kazakh letters), endings and redacted details."""
    tokens = tokenize(_PLACEHOLDER_RE.sub(" ", text))
    return " ".join(sorted({min(stem_ru(t), stem_kk(t), key=len) for t in tokens}))
